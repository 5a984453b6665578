// Package wasmtest builds the project's Go plugins to WebAssembly for tests, from source, once
// per change: builds are cached by a hash of the sources they depend on.
package wasmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Build compiles the Go package at dir (relative to the module root, e.g. "plugins/echo") with
// GOOS=wasip1 and returns the .wasm path. It fails the test if the build fails.
func Build(t testing.TB, dir string) string {
	t.Helper()
	p, err := BuildPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BuildPath is Build for callers without a test, such as TestMain: it returns the error.
func BuildPath(dir string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[dir]; ok {
		return p, nil
	}
	p, err := build(dir)
	if err != nil {
		return "", fmt.Errorf("build plugin %s: %w", dir, err)
	}
	built[dir] = p
	return p, nil
}

// Root returns the module's root folder.
func Root() (string, error) {
	out, err := exec.Command(goBin(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}

// goBin is the go command: go test puts the running toolchain's bin folder first in PATH.
func goBin() string { return "go" }

func build(dir string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), dir)
	// A plugin depends on its own folder, the SDK and the ABI types.
	for _, d := range []string{dir, "sdk/go", "abi", "go.mod", "go.sum"} {
		if err := hashTree(h, filepath.Join(root, d)); err != nil {
			return "", err
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	cache = filepath.Join(cache, "gateway-test-wasm")
	out := filepath.Join(cache, strings.ReplaceAll(dir, "/", "_")+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cache, "build-*.wasm")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(goBin(), "build", "-buildmode=c-shared", "-o", tmp.Name(), "./"+dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, b)
	}
	return out, os.Rename(tmp.Name(), out)
}

func hashTree(h interface{ Write([]byte) (int, error) }, path string) error {
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, ".png") && !strings.HasSuffix(p, ".mod") && !strings.HasSuffix(p, ".sum") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		_, _ = h.Write(b)
		return nil
	})
}

// CacheDir is a compilation cache folder shared by the tests of every package, so that a plugin
// is compiled to machine code once per change rather than once per test.
func CacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "gateway-test-wasm", "wazero")
}

var (
	examplesOnce sync.Once
	examplesErr  error
)

// Example returns the .wasm of an example plugin in another language (examples/<name>, e.g.
// "echo-c"), building every example from source once per test binary with
// scripts/build-examples.sh. The toolchains come from `make deps`; without them the test fails.
func Example(t testing.TB, name string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	examplesOnce.Do(func() {
		cmd := exec.Command("bash", "scripts/build-examples.sh")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			examplesErr = fmt.Errorf("scripts/build-examples.sh: %v\n%s", err, out)
		}
	})
	if examplesErr != nil {
		t.Fatalf("build the example plugins (make deps installs the toolchains): %v", examplesErr)
	}
	p := filepath.Join(root, "build", "examples", name+".wasm")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("example plugin %s: %v", name, err)
	}
	return p
}
