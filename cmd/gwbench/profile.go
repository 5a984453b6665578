package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xmppgw/gateway/host/config"
	"github.com/xmppgw/gateway/host/daemon"

	"runtime/pprof"
)

// profileOnSignal records a CPU profile between SIGUSR1 and SIGUSR2 into the file named by
// $GWBENCH_PROFILE (written to a temporary name, renamed when complete), so that the driver
// profiles exactly its measured window.
func profileOnSignal(log *slog.Logger) {
	path := os.Getenv("GWBENCH_PROFILE")
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	var f *os.File
	for s := range sig {
		switch {
		case s == syscall.SIGUSR1 && f == nil:
			var err error
			if f, err = os.Create(path + ".tmp"); err != nil {
				log.Error("cpu profile", "err", err)
				continue
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Error("cpu profile", "err", err)
				f.Close()
				f = nil
			}
		case s == syscall.SIGUSR2 && f != nil:
			pprof.StopCPUProfile()
			f.Close()
			f = nil
			if err := os.Rename(path+".tmp", path); err != nil {
				log.Error("cpu profile", "err", err)
			}
		}
	}
}

// runGateway is `gwbench gateway -c FILE`: the gateway daemon linked into gwbench (the same
// host/daemon as cmd/gateway), which can record a CPU profile of the measured window.
func runGateway(args []string) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	path := fs.String("c", "gateway.toml", "configuration `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gwbench gateway: invalid configuration:\n%v\n", err)
		return 3
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go profileOnSignal(log)
	d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: log})
	if err != nil {
		log.Error("could not start", "err", err)
		return 1
	}
	<-ctx.Done()
	d.Stop()
	return 0
}

// profiler records the target's CPU during the measured window: a Go CPU profile for the
// processes gwbench runs itself (floor, in-process gateway), perf for bin/gateway.
type profiler struct {
	kind   string // "pprof", "http" (net/http/pprof on the admin listener) or "perf"
	out    string // profile file
	binary string // for reports
	p      *proc  // target
	perf   *exec.Cmd
	url    string        // http: the profile endpoint
	window time.Duration // http: how long to profile
	done   chan error    // http: the download's end
}

// adminPprof reports whether the gateway's admin listener serves net/http/pprof.
func adminPprof(admin string) bool {
	resp, err := http.Get("http://" + admin + "/debug/pprof/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (pr *profiler) start() error {
	switch pr.kind {
	case "pprof":
		return pr.p.signal(syscall.SIGUSR1)
	case "http":
		pr.done = make(chan error, 1)
		secs := int((pr.window + time.Second - 1) / time.Second)
		go func() {
			resp, err := http.Get(pr.url + "?seconds=" + strconv.Itoa(secs))
			if err != nil {
				pr.done <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				pr.done <- fmt.Errorf("%s: %s", pr.url, resp.Status)
				return
			}
			f, err := os.Create(pr.out)
			if err == nil {
				_, err = io.Copy(f, resp.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			pr.done <- err
		}()
		return nil
	case "perf":
		perf, err := exec.LookPath("perf")
		if err != nil {
			return errors.New("perf is not installed: no profile of bin/gateway (use -gateway inproc for a Go profile)")
		}
		pr.perf = exec.Command(perf, "record", "-q", "-F", "499", "-g", "-p", strconv.Itoa(pr.p.pid()), "-o", pr.out)
		pr.perf.Stdout, pr.perf.Stderr = os.Stderr, os.Stderr
		return pr.perf.Start()
	}
	return nil
}

func (pr *profiler) stop() error {
	switch pr.kind {
	case "pprof":
		if err := pr.p.signal(syscall.SIGUSR2); err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(pr.out); err == nil {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("no profile written to %s", pr.out)
	case "http":
		select {
		case err := <-pr.done:
			return err
		case <-time.After(pr.window + 30*time.Second):
			return fmt.Errorf("%s: no profile", pr.url)
		}
	case "perf":
		if pr.perf == nil || pr.perf.Process == nil {
			return nil
		}
		_ = pr.perf.Process.Signal(os.Interrupt)
		_ = pr.perf.Wait() // perf ends with the signal's status
		if _, err := os.Stat(pr.out); err != nil {
			return fmt.Errorf("perf record wrote no profile: %w", err)
		}
		return nil
	}
	return nil
}

// report writes the top functions by cumulative CPU next to the profile and returns its first
// lines.
func (pr *profiler) report(lines int) (string, error) {
	var cmd *exec.Cmd
	switch pr.kind {
	case "pprof", "http":
		gobin, err := exec.LookPath("go")
		if err != nil {
			return "", err
		}
		cmd = exec.Command(gobin, "tool", "pprof", "-top", "-cum", "-nodecount=60", pr.binary, pr.out)
	case "perf":
		cmd = exec.Command("perf", "report", "-i", pr.out, "--stdio", "--children", "--no-call-graph",
			"--sort", "symbol", "--percent-limit", "1.5")
	default:
		return "", nil
	}
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(cmd.Args[:3], " "), err)
	}
	txt := filepath.Join(filepath.Dir(pr.out), strings.TrimSuffix(filepath.Base(pr.out), filepath.Ext(pr.out))+".top.txt")
	_ = os.WriteFile(txt, out, 0o644)
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		if pr.kind == "perf" {
			// "  45.44%  0.00%  [.] symbol   -  -": drop the padding and the empty columns.
			l = strings.TrimRight(l, " -")
		}
		keep = append(keep, l)
		if len(keep) >= lines {
			break
		}
	}
	return strings.Join(keep, "\n") + "\n(full list: " + txt + ")", nil
}
