package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Limits on how long the benchmark waits for its subprocesses.
const (
	startTimeout = 30 * time.Second // for a server to print its address
	stopTimeout  = 60 * time.Second // for a server to finish after SIGTERM, before it is killed
)

// buildCasaPay builds the casapay command into dir and returns the binary's path. It names the package
// by import path, so it works from anywhere inside the module.
func buildCasaPay(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "casapay")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/casapay/casapay/cmd/casapay")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/casapay: %w\n%s", err, out)
	}
	return bin, nil
}

// process is a server running as a subprocess: `casapay serve` or the bare baseline.
type process struct {
	URL    string   // http://127.0.0.1:PORT
	banner []string // what it printed on stdout up to its address
	cmd    *exec.Cmd
	log    string // the file that holds its stderr
}

// startProcess starts bin with args, its stderr going to logFile, and returns once it prints the
// address it listens on. The process outlives ctx: stop it with stop.
func startProcess(ctx context.Context, logFile, bin string, args ...string) (*process, error) {
	logOut, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer logOut.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &process{cmd: cmd, log: logFile}

	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			// Both servers print "… listening on http://ADDR" once their listener is bound.
			if _, addr, ok := strings.Cut(lines.Text(), "listening on http://"); ok && addr != "" {
				found <- "http://" + strings.Fields(addr)[0]
				break
			}
			p.banner = append(p.banner, lines.Text())
		}
		close(found)
		io.Copy(io.Discard, stdout) // so later output never blocks the server; ends when it exits
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case u, ok := <-found:
		if ok {
			p.URL = u
			return p, nil
		}
		err = errors.New("it exited before listening")
	case <-timer.C:
		err = fmt.Errorf("it printed no address within %s", startTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.stop()
	return nil, fmt.Errorf("start %s: %w%s", filepath.Base(bin), err, p.logTail())
}

// stop sends SIGTERM and waits for the process to exit, killing it if it takes longer than stopTimeout.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("server exited: %w%s", err, p.logTail())
		}
		return nil
	case <-timer.C:
		p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("server did not stop within %s of SIGTERM; killed it", stopTimeout)
	}
}

// logTail returns the last lines of the process's log, for an error message.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return "\nlast lines of its log:\n  " + strings.Join(lines[max(0, len(lines)-10):], "\n  ")
}

// errorLines returns up to n of the process's logged errors, for a report of failed requests.
func (p *process) errorLines(n int) []string {
	f, err := os.Open(p.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() && len(out) < n {
		if bytes.Contains(lines.Bytes(), []byte("level=ERROR")) {
			out = append(out, lines.Text())
		}
	}
	return out
}

// rss returns the process's resident set size in bytes, from VmRSS in /proc/PID/status (Linux only).
func (p *process) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// startServe starts `casapay serve` on db, listening on a free loopback port, with rate limits off: the
// benchmark drives one account far beyond them on purpose. With pprof it also serves the profiler on
// another free port, which pprofURL returns.
func startServe(ctx context.Context, cfg config, db, logFile string, pprof bool) (*process, error) {
	return startServeLimited(ctx, cfg, db, logFile, pprof, "off")
}

// startServeLimited is startServe with --rate-limits limits.
func startServeLimited(ctx context.Context, cfg config, db, logFile string, pprof bool, limits string) (*process, error) {
	args := []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--rate-limits", limits}
	if pprof {
		args = append(args, "--pprof-addr", "127.0.0.1:0")
	}
	return startProcess(ctx, logFile, cfg.casapayPath, args...)
}

// pprofURL returns the profiler's base URL that serve printed before its address ("pprof on
// http://ADDR/debug/pprof/"), or "" if it printed none.
func (p *process) pprofURL() string {
	for _, line := range p.banner {
		if _, u, ok := strings.Cut(line, "pprof on "); ok {
			return strings.TrimSpace(u)
		}
	}
	return ""
}

// account is what `casapay accounts create --json` prints.
type account struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	TestSecretKey string `json:"test_secret_key"`
	LiveSecretKey string `json:"live_secret_key"`
}

// createAccount runs `casapay accounts create` on db, which also applies the migrations.
func createAccount(ctx context.Context, cfg config, db, name string) (*account, error) {
	cmd := exec.CommandContext(ctx, cfg.casapayPath, "accounts", "create", "--db", db, "--name", name, "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("casapay accounts create: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var a account
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, fmt.Errorf("casapay accounts create printed %q: %w", out, err)
	}
	return &a, nil
}

// createDatabase creates a fresh database beside the one base names and returns its URL and a function
// that drops it. Dropping forces out any connection left behind, so it works after a failed run.
func createDatabase(ctx context.Context, base string) (dbURL string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse --postgres: %w", err)
	}
	name := "casapay_bench_" + strings.ToLower(rand.Text()[:12])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to --postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop = func() error {
		// The run's context may be cancelled already (Ctrl-C); the database must go anyway.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("connect to drop database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
