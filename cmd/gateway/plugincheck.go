package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/xmppgw/gateway/host/checker"
)

const pluginUsage = `Usage: gateway plugin check [--json] [--fixture FILE] [-v] FILE.wasm

Subcommands:
  check   check a plugin module against ABI v1, then run a conformance scenario on it
`

const pluginCheckSynopsis = `plugin check [--json] [--fixture FILE] [-v] [--event-timeout D] FILE.wasm

Checks FILE.wasm against the plugin ABI v1 (its version marker, exports, imports and memory),
then runs a conformance scenario on it against an in-memory host: init, validate, login, fill,
update_info, text, jid_mapping, logout. Each step prints "PASS name: what happened" or
"FAIL name: why". Exit status 0 when every step passes, 1 otherwise, 2 for bad usage.

The fixture (JSON, or TOML when its name ends in .toml) supplies what the scenario cannot guess:
  config        init's config object (the gateway's [gateway.config] table)
  bridges       the bridges granted in init
  registration  registration values by field var (default: the field's default value,
                "+15550000001" for a field named phone, "checker" otherwise)
  prompts       answers to session.prompt: [{"id": "login-code", "answer": "12345"},
                {"match": "password", "answer": "..."}] (by prompt id or text substring)
  contact       the legacy id to test (default: the first contact the plugin creates)
  text          the body of the test message
  bridge        canned bridge answers: [{"bridge": "tdlib", "type": "getMe", "contains": "...",
                "response": {...} or "error": {"code": "unavailable", "message": "..."},
                "events": [{...}], "once": true}] (first match wins)
See the documentation of package host/checker for details.

Options:`

// cmdPlugin runs "gateway plugin SUBCOMMAND".
func cmdPlugin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginUsage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return cmdPluginCheck(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, pluginUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "gateway plugin: unknown subcommand %q\n\n%s", args[0], pluginUsage)
	return exitUsage
}

// cmdPluginCheck runs the plugin conformance checker: exit 0 when every step passes.
func cmdPluginCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("plugin check", pluginCheckSynopsis, stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fixture := fs.String("fixture", "", "`file` of the scenario's inputs (JSON, or TOML if it ends in .toml)")
	verbose := fs.Bool("v", false, "trace every event, host call and plugin log line on stderr")
	timeout := fs.Duration("event-timeout", 10*time.Second, "deadline of each event")

	// Flags may come after the file, too.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "gateway plugin check: want one FILE.wasm, got %d arguments\n", len(files))
		fs.Usage()
		return exitUsage
	}

	o := checker.Options{EventTimeout: *timeout}
	if *fixture != "" {
		fx, err := checker.LoadFixture(*fixture)
		if err != nil {
			fmt.Fprintf(stderr, "gateway plugin check: %v\n", err)
			return exitUsage
		}
		o.Fixture = fx
	}
	if *verbose {
		o.Trace = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := checker.Run(ctx, files[0], o)
	if r == nil {
		fmt.Fprintf(stderr, "gateway plugin check: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		b, jerr := json.MarshalIndent(r, "", "  ")
		if jerr != nil {
			fmt.Fprintf(stderr, "gateway plugin check: %v\n", jerr)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		r.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin check: stopped: %v\n", err)
		return exitFailure
	}
	if !r.OK() {
		return exitFailure
	}
	return exitOK
}
