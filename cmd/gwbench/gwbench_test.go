package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for gwbench when the driver starts the floor or the
// in-process gateway (it runs os.Executable()).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "floor":
			os.Exit(runFloor(os.Args[2:]))
		case "gateway":
			os.Exit(runGateway(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// build compiles the gateway and the echo plugin from the current tree into dir.
func build(t *testing.T, dir string) (gateway, plugin string) {
	t.Helper()
	root := moduleRoot()
	if root == "" {
		t.Fatal("not inside the module")
	}
	gateway, plugin = filepath.Join(dir, "gateway"), filepath.Join(dir, "echo.wasm")
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"build", "-o", gateway, "./cmd/gateway"}},
		{[]string{"GOOS=wasip1", "GOARCH=wasm"}, []string{"build", "-buildmode=c-shared", "-o", plugin, "./plugins/echo"}},
	} {
		cmd := exec.Command("go", c.args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), c.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", c.args, err, out)
		}
	}
	return gateway, plugin
}

// TestSmoke runs the benchmark with 2 users for 2 seconds against the gateway and the floor:
// nothing lost, nothing duplicated, no errors, and round trips in the window.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody, the gateway and the floor")
	}
	if _, err := exec.LookPath("prosody"); err != nil {
		t.Fatal("prosody is not installed: run make deps")
	}
	gw, plugin := build(t, t.TempDir())
	var out, errw bytes.Buffer
	o, err := parseFlags([]string{"-users", "2", "-duration", "2s", "-warmup", "1s", "-grace", "5s", "-floor",
		"-gateway-bin", gw, "-plugin", plugin, "-dir", t.TempDir()}, &out, &errw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := bench(ctx, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	report(o, res)
	t.Logf("\n%s", out.String())
	if len(res) != 2 {
		t.Fatalf("%d results, want the gateway and the floor", len(res))
	}
	for _, r := range res {
		if r.Lost != 0 || r.Duplicates != 0 || r.Errors != 0 {
			t.Errorf("%s: lost %d, duplicates %d, errors %d (%s)", r.Target, r.Lost, r.Duplicates, r.Errors, r.ErrSample)
		}
		if r.RatePerSec <= 0 || r.RoundTrips <= 0 {
			t.Errorf("%s: %.1f round trips per second", r.Target, r.RatePerSec)
		}
		if r.CPUPerRT <= 0 {
			t.Errorf("%s: no CPU per round trip", r.Target)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]time.Duration{50: 5, 90: 9, 99: 10, 100: 10, 0: 1} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestSeqOf(t *testing.T) {
	if n, ok := seqOf("echo: r0-12", "echo: r0-"); !ok || n != 12 {
		t.Errorf("got %d %v", n, ok)
	}
	for _, s := range []string{"echo: r1-12", "echo: r0-", "echo: r0-x", "r0-1"} {
		if _, ok := seqOf(s, "echo: r0-"); ok {
			t.Errorf("%q matched", s)
		}
	}
}

func TestCPUTime(t *testing.T) {
	d, err := cpuTime(os.Getpid())
	if err != nil {
		t.Skip(err)
	}
	if d < 0 {
		t.Fatal(d)
	}
}
