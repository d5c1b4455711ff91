package testtool

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a private PostgreSQL server for one test: its own data dir,
// its own port on loopback, gone when the test ends.
type Postgres struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	n    atomic.Int64
}

// postgresBin finds one of PostgreSQL's server programs: on PATH, or where
// Debian's postgresql package puts them (newest major version first).
func postgresBin(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Sort(sort.Reverse(sort.StringSlice(found)))
	if len(found) > 0 {
		return found[0]
	}
	return Need(t, name)
}

// StartPostgres runs a private PostgreSQL (trust logins on loopback, no
// fsync: a test's database need not outlive a power cut) and stops it
// when the test ends. PostgreSQL refuses to run as root, so a test run
// as root runs it as the postgres user Debian's package makes.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb, server := postgresBin(t, "initdb"), postgresBin(t, "postgres")
	dir, err := os.MkdirTemp("", "sekisho-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Postgres{dir: dir}
	t.Cleanup(func() { p.stop(); _ = os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("PostgreSQL will not run as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	command := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(name, args...)
		c.Dir = dir
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return c
	}
	data := filepath.Join(dir, "data")
	if out, err := command(initdb, "-D", data, "-U", "sekisho", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	logFile := filepath.Join(dir, "postgres.log")
	deadline := time.Now().Add(60 * time.Second)
	for {
		p.Port = FreePort(t)
		lf, err := os.Create(logFile)
		if err != nil {
			t.Fatal(err)
		}
		if cred != nil {
			_ = lf.Chown(int(cred.Uid), int(cred.Gid))
		}
		p.cmd = command(server, "-D", data, "-p", strconv.Itoa(p.Port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=200")
		p.cmd.Stdout, p.cmd.Stderr = lf, lf
		if err := p.cmd.Start(); err != nil {
			lf.Close()
			t.Fatalf("start postgres: %v", err)
		}
		lf.Close()
		done, cmd := make(chan struct{}), p.cmd
		p.done = done
		go func() { _ = cmd.Wait(); close(done) }()
		if p.ready(done, deadline) {
			return p
		}
		p.stop()
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("postgres did not start on %d:\n%s", p.Port, log)
		}
		// It exited: its port was taken meanwhile by another test. Again.
	}
}

// ready waits until the server takes a connection, or it exits.
func (p *Postgres) ready(exited <-chan struct{}, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, p.url("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func (p *Postgres) url(db string) string {
	return fmt.Sprintf("postgres://sekisho@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// NewDatabase makes an empty database on the server and returns its DSN.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("sekisho_%d", p.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return p.url(name)
}

func (p *Postgres) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown: nothing here is kept
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		p.cmd = nil
	}
}
