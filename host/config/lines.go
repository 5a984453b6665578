package config

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex records where each key of a TOML document is defined, because the
// TOML library reports no per-key positions after a successful decode. Keys are
// addressed by their indexed path: "gateway[1].jid", "bridge.tg.api_id",
// "gateway[0].bridges[2]".
type lineIndex struct {
	lines map[string]int       // indexed path -> 1-based line of first definition
	byKey map[string][]keyLine // unindexed path as toml.Key.String() -> definitions
}

// keyLine is one definition of a key: its indexed path and line.
type keyLine struct {
	path string
	line int
}

// lineOf returns the line where the key with the indexed path is defined,
// falling back to the enclosing array for an element such as "x.bridges[1]",
// or 0 when the key cannot be found.
func (x *lineIndex) lineOf(path string) int {
	for {
		if n, ok := x.lines[path]; ok {
			return n
		}
		if !strings.HasSuffix(path, "]") {
			return 0
		}
		i := strings.LastIndexByte(path, '[')
		if i <= 0 {
			return 0
		}
		path = path[:i]
	}
}

func (x *lineIndex) add(path string, parts []string, line int) {
	if _, ok := x.lines[path]; ok {
		return
	}
	x.lines[path] = line
	k := toml.Key(parts).String()
	x.byKey[k] = append(x.byKey[k], keyLine{path, line})
}

// indexLines scans valid TOML text and records the line of every table
// header, key and array element. It is a tolerant mini-lexer, not a parser:
// the text has already been accepted by the TOML library, so it only needs
// to follow strings, comments, arrays and inline tables well enough not to
// mistake their contents for keys.
func indexLines(src string) *lineIndex {
	s := &lineScanner{
		src:   src,
		line:  1,
		idx:   &lineIndex{lines: map[string]int{}, byKey: map[string][]keyLine{}},
		count: map[string]int{},
	}
	s.document()
	return s.idx
}

type lineScanner struct {
	src   string
	pos   int
	line  int
	idx   *lineIndex
	count map[string]int // indexed path of an array of tables -> elements so far
}

func (s *lineScanner) eof() bool { return s.pos >= len(s.src) }

func (s *lineScanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *lineScanner) skipSpace() {
	for !s.eof() && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// skipBlank skips spaces, newlines and comments.
func (s *lineScanner) skipBlank() {
	for !s.eof() {
		switch s.src[s.pos] {
		case ' ', '\t', '\r':
			s.pos++
		case '\n':
			s.pos++
			s.line++
		case '#':
			for !s.eof() && s.src[s.pos] != '\n' {
				s.pos++
			}
		default:
			return
		}
	}
}

func (s *lineScanner) skipLine() {
	for !s.eof() && s.src[s.pos] != '\n' {
		s.pos++
	}
}

func (s *lineScanner) document() {
	var table string      // indexed path of the current table
	var tableKey []string // its unindexed parts
	for {
		s.skipBlank()
		if s.eof() {
			return
		}
		if s.peek() == '[' {
			table, tableKey = s.header()
			s.skipLine()
			continue
		}
		line := s.line
		parts := s.key()
		if len(parts) == 0 {
			s.skipLine() // not TOML we understand; resynchronise
			continue
		}
		path := s.record(table, tableKey, parts, line)
		s.skipSpace()
		if s.peek() == '=' {
			s.pos++
			s.skipSpace()
			s.value(path, append(append([]string(nil), tableKey...), parts...))
		}
		s.skipLine()
	}
}

// header reads "[a.b]" or "[[a.b]]" and returns the indexed path and parts
// of the table it opens.
func (s *lineScanner) header() (string, []string) {
	line := s.line
	s.pos++
	array := s.peek() == '['
	if array {
		s.pos++
	}
	s.skipSpace()
	parts := s.key()
	var path string
	for i, p := range parts {
		path = joinKey(path, p)
		if i == len(parts)-1 && array {
			n := s.count[path]
			s.count[path] = n + 1
			path += "[" + strconv.Itoa(n) + "]"
		} else if n, ok := s.count[path]; ok && n > 0 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
		s.idx.add(path, parts[:i+1], line)
	}
	return path, parts
}

// record registers the key parts (and their dotted prefixes) under the table
// and returns the key's indexed path.
func (s *lineScanner) record(table string, tableKey, parts []string, line int) string {
	path := table
	all := append([]string(nil), tableKey...)
	for _, p := range parts {
		path = joinKey(path, p)
		all = append(all, p)
		s.idx.add(path, all, line)
	}
	return path
}

// key reads a possibly dotted key and returns its unquoted parts.
func (s *lineScanner) key() []string {
	var parts []string
	for {
		s.skipSpace()
		p, ok := s.keyPart()
		if !ok {
			return parts
		}
		parts = append(parts, p)
		s.skipSpace()
		if s.peek() != '.' {
			return parts
		}
		s.pos++
	}
}

func (s *lineScanner) keyPart() (string, bool) {
	switch c := s.peek(); {
	case c == '"':
		start := s.pos
		s.basicString()
		raw := s.src[start:s.pos]
		if u, err := strconv.Unquote(raw); err == nil {
			return u, true
		}
		return strings.Trim(raw, `"`), true
	case c == '\'':
		start := s.pos + 1
		s.literalString()
		return s.src[start : s.pos-1], true
	case isBare(c):
		start := s.pos
		for !s.eof() && isBare(s.src[s.pos]) {
			s.pos++
		}
		return s.src[start:s.pos], true
	}
	return "", false
}

// value skips one value, recording the keys of inline tables and the
// elements of arrays under path.
func (s *lineScanner) value(path string, key []string) {
	switch c := s.peek(); c {
	case '"':
		if strings.HasPrefix(s.src[s.pos:], `"""`) {
			s.multiline(`"""`, true)
		} else {
			s.basicString()
		}
	case '\'':
		if strings.HasPrefix(s.src[s.pos:], `'''`) {
			s.multiline(`'''`, false)
		} else {
			s.literalString()
		}
	case '[':
		s.pos++
		for i := 0; ; i++ {
			s.skipBlank()
			if s.eof() || s.peek() == ']' {
				s.pos++
				return
			}
			elem := path + "[" + strconv.Itoa(i) + "]"
			if _, ok := s.idx.lines[elem]; !ok {
				s.idx.lines[elem] = s.line // elements are not keys: lines only
			}
			s.value(elem, key)
			s.skipBlank()
			if s.peek() == ',' {
				s.pos++
			}
		}
	case '{':
		s.pos++
		for {
			s.skipBlank()
			if s.eof() || s.peek() == '}' {
				s.pos++
				return
			}
			line := s.line
			parts := s.key()
			if len(parts) == 0 {
				s.pos++ // unexpected byte; skip it rather than loop
				continue
			}
			sub := s.record(path, key, parts, line)
			s.skipSpace()
			if s.peek() == '=' {
				s.pos++
				s.skipBlank()
				s.value(sub, append(append([]string(nil), key...), parts...))
			}
			s.skipBlank()
			if s.peek() == ',' {
				s.pos++
			}
		}
	default:
		s.scalar()
	}
}

func (s *lineScanner) basicString() {
	s.pos++ // opening quote
	for !s.eof() {
		switch s.src[s.pos] {
		case '\\':
			s.pos += 2
			continue
		case '"':
			s.pos++
			return
		case '\n':
			return
		}
		s.pos++
	}
}

func (s *lineScanner) literalString() {
	s.pos++
	for !s.eof() {
		switch s.src[s.pos] {
		case '\'':
			s.pos++
			return
		case '\n':
			return
		}
		s.pos++
	}
}

// multiline skips a multi-line string delimited by delim, counting lines.
// Up to two extra quotes may close it (`""""` ends in a quote character).
func (s *lineScanner) multiline(delim string, escapes bool) {
	s.pos += len(delim)
	for !s.eof() {
		switch {
		case escapes && s.src[s.pos] == '\\':
			s.pos++
			if !s.eof() && s.src[s.pos] == '\n' {
				s.line++
			}
			s.pos++
		case strings.HasPrefix(s.src[s.pos:], delim):
			s.pos += len(delim)
			for i := 0; i < 2 && s.peek() == delim[0]; i++ {
				s.pos++
			}
			return
		default:
			if s.src[s.pos] == '\n' {
				s.line++
			}
			s.pos++
		}
	}
}

// scalar skips a number, boolean or date-time ("1979-05-27 07:32:00" holds
// a space).
func (s *lineScanner) scalar() {
	start := s.pos
	for !s.eof() && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[s.pos])) {
		s.pos++
	}
	tok := s.src[start:s.pos]
	if len(tok) == 10 && tok[4] == '-' && tok[7] == '-' && s.peek() == ' ' &&
		s.pos+1 < len(s.src) && s.src[s.pos+1] >= '0' && s.src[s.pos+1] <= '9' {
		s.pos++
		s.scalar()
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// joinKey appends one key part to an indexed path, quoting it as TOML would
// when it is not a bare key.
func joinKey(path, part string) string {
	p := toml.Key{part}.String()
	if path == "" {
		return p
	}
	return path + "." + p
}
