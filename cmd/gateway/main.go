// Command gateway is the XMPP gateway daemon and its tools.
//
// Usage:
//
//	gateway run -c gateway.toml           run the gateway in the foreground
//	gateway check-config -c gateway.toml  validate the configuration and print what would run
//	gateway version                       print the version
//
// Exit codes: 0 success (including a clean shutdown on SIGINT/SIGTERM); 1 the gateway failed
// while running or could not start; 2 bad command-line usage; 3 the configuration is invalid.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/xmppgw/gateway/host/buildinfo"
	"github.com/xmppgw/gateway/host/config"
	"github.com/xmppgw/gateway/host/daemon"
)

// Exit codes, documented in the package comment and README.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitConfig  = 3
)

const usage = `gateway: an XMPP gateway to other chat networks, with WebAssembly network plugins.

Usage:
  gateway run -c FILE            run the gateway in the foreground until SIGINT/SIGTERM
  gateway check-config -c FILE   validate FILE and print what would run
  gateway plugin check FILE.wasm check a plugin against ABI v1 and run its conformance scenario
                                 (--fixture FILE supplies its inputs, --json prints a JSON report)
  gateway version                print the version
  gateway help                   show this text

Run "gateway COMMAND --help" for a command's options.
Exit codes: 0 ok, 1 failure while running, 2 bad usage, 3 invalid configuration.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "check-config":
		return cmdCheckConfig(args[1:], stdout, stderr)
	case "plugin":
		return cmdPlugin(args[1:], stdout, stderr)
	case "version":
		return cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// newFlags returns a flag set for a subcommand whose --help prints its usage and options.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; it returns an exit code and false when the command must stop.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "gateway %s: unexpected arguments: %s\n", fs.Name(), strings.Join(fs.Args(), " "))
		return exitUsage, false
	}
	return 0, true
}

func loadConfig(path string, stderr io.Writer) (*config.Config, int) {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "gateway: invalid configuration:\n%v\n", err)
		return nil, exitConfig
	}
	return cfg, exitOK
}

func cmdRun(args []string, _, stderr io.Writer) int {
	fs := newFlags("run", "run -c FILE\n\nRuns the gateway in the foreground. SIGINT or SIGTERM shut it down cleanly (exit 0).", stderr)
	path := fs.String("c", "gateway.toml", "configuration `file`")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log.Info("starting", "version", buildinfo.Version(), "config", cfg.File, "gateways", len(cfg.Gateways))
	d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: log})
	if err != nil {
		log.Error("could not start", "err", err)
		return exitFailure
	}
	<-ctx.Done()
	log.Info("shutting down")
	d.Stop()
	log.Info("stopped")
	return exitOK
}

func cmdCheckConfig(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check-config", "check-config -c FILE\n\nValidates FILE and prints what would run; exit 3 when it is invalid.", stderr)
	path := fs.String("c", "gateway.toml", "configuration `file`")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	fmt.Fprintf(stdout, "%s: configuration is valid\n\n%s", cfg.File, cfg.Summary())
	return exitOK
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "version\n\nPrints the gateway's version.", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(stdout, "%s %s\n", buildinfo.Name, buildinfo.Version())
	return exitOK
}

// newLogger builds the process logger from the [log] table.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}
