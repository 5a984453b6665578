package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestLabelShare: the CPU of goroutines labelled bridge=sim is found in a real Go CPU profile.
func TestLabelShare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Skipf("cpu profile: %v", err)
	}
	spin := func(d time.Duration) {
		x := 0
		for end := time.Now().Add(d); time.Now().Before(end); {
			x++
		}
		_ = x
	}
	done := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels("bridge", "sim"), func(context.Context) {
		go func() { spin(300 * time.Millisecond); close(done) }()
	})
	spin(300 * time.Millisecond)
	<-done
	pprof.StopCPUProfile()
	f.Close()
	total, sim, err := labelShare(path, "bridge", "sim")
	if err != nil {
		t.Fatal(err)
	}
	if total <= 0 || sim <= 0 || sim >= total {
		t.Fatalf("total %v, labelled %v", time.Duration(total), time.Duration(sim))
	}
	if _, _, err := labelShare(path+".missing", "bridge", "sim"); err == nil {
		t.Fatal("no error for a missing profile")
	}
}

// TestTelegramFlags: -telegram takes the Telegram plugin and refuses what it cannot measure.
func TestTelegramFlags(t *testing.T) {
	root := moduleRoot()
	if root == "" {
		t.Skip("not inside the module")
	}
	plugin := filepath.Join(t.TempDir(), "telegram.wasm")
	if err := os.WriteFile(plugin, []byte("\x00asm"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errw bytes.Buffer
	o, err := parseFlags([]string{"-telegram", "-gateway", "inproc", "-plugin", plugin}, &errw, &errw)
	if err != nil {
		t.Fatal(err)
	}
	toml, err := o.telegramTOML(t.TempDir())
	if err != nil || !strings.Contains(toml, `backend = "sim"`) || !strings.Contains(toml, `bridges = ["telegram"]`) {
		t.Fatalf("telegramTOML: %q %v", toml, err)
	}
	for _, args := range [][]string{{"-telegram", "-full"}, {"-telegram", "-floor"}, {"-telegram", "-telegram-contacts", "0"}} {
		if _, err := parseFlags(append(args, "-gateway", "inproc", "-plugin", plugin), &errw, &errw); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
