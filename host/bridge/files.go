package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Files never travel inside JSON between a plugin and the host (abi README, section 9): a
// plugin writes "handle:<id>" where TDLib wants a local path, and gets "handle:<id>" where TDLib
// reports one. These two helpers apply that rule to TDLib's JSON, for the host's bridge.call
// and bridge event paths; they leave a message without file paths untouched (and cheap).

// MapInputFiles rewrites the path of every inputFileLocal in a TDLib request with fn (which
// turns "handle:f-7" into the handle's file on the host, and refuses anything else), and
// refuses inputFileGenerated, whose original_path would name a host file too.
func MapInputFiles(req []byte, fn func(path string) (string, error)) ([]byte, error) {
	if !bytes.Contains(req, []byte(`"inputFileLocal"`)) && !bytes.Contains(req, []byte(`"inputFileGenerated"`)) {
		return req, nil
	}
	v, err := decodeAny(req)
	if err != nil {
		return nil, ErrBadRequest
	}
	var walkErr error
	walk(v, func(m map[string]any) {
		switch m["@type"] {
		case "inputFileLocal":
			p, _ := m["path"].(string)
			np, err := fn(p)
			if err != nil && walkErr == nil {
				walkErr = err
			}
			m["path"] = np
		case "inputFileGenerated":
			if walkErr == nil {
				walkErr = fmt.Errorf("bridge: inputFileGenerated is not allowed; send a file handle with inputFileLocal")
			}
		}
	})
	if walkErr != nil {
		return nil, walkErr
	}
	return marshal(v)
}

// MapLocalFiles rewrites the non-empty path of every localFile in a TDLib answer or update with
// fn, which is told whether the file is complete (is_downloading_completed) and returns the
// path to show, e.g. "handle:f-9" for a downloaded file, or "" to hide it.
func MapLocalFiles(msg []byte, fn func(path string, complete bool) string) []byte {
	if !hasLocalPath(msg) {
		return msg
	}
	v, err := decodeAny(msg)
	if err != nil {
		return msg
	}
	walk(v, func(m map[string]any) {
		if m["@type"] != "localFile" {
			return
		}
		if p, _ := m["path"].(string); p != "" {
			done, _ := m["is_downloading_completed"].(bool)
			m["path"] = fn(p, done)
		}
	})
	out, err := marshal(v)
	if err != nil {
		return msg
	}
	return out
}

// hasLocalPath tells whether msg may hold a localFile with a non-empty path. TDLib (and the
// simulation) write "@type" first and "path" second; any other layout takes the slow way.
func hasLocalPath(msg []byte) bool {
	const typ = `"@type":"localFile"`
	const fast = `"@type":"localFile","path":"`
	rest := msg
	for {
		i := bytes.Index(rest, []byte(typ))
		if i < 0 {
			return false
		}
		rest = rest[i:]
		if !bytes.HasPrefix(rest, []byte(fast)) {
			return true
		}
		if len(rest) > len(fast) && rest[len(fast)] != '"' {
			return true
		}
		rest = rest[len(typ):]
	}
}

func decodeAny(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // int64 ids survive
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, ErrBadRequest
	}
	return v, nil
}

func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, e := range x {
			walk(e, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// IsHandlePath tells whether a path is a plugin's file handle reference, "handle:<id>".
func IsHandlePath(p string) (id string, ok bool) {
	id, ok = strings.CutPrefix(p, "handle:")
	return id, ok && id != ""
}
