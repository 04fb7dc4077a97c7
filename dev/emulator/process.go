package emulator

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Process is the emulator in a process of its own on a fixed address,
// keeping its state in a folder (KUMO_DATA_DIR), so that it can be stopped
// and started again on the same state while its clients keep running.
type Process struct {
	// Addr is the address the emulator listens on.
	Addr string
	argv []string
	env  []string
	cmd  *exec.Cmd
	done chan error
}

// StartProcess runs argv, a command that serves the emulator on addr (for
// example `local emulator -addr ADDR`), with env added to this process's
// environment, and waits until addr accepts connections.
func StartProcess(argv []string, env []string, addr string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("emulator: no command")
	}
	p := &Process{Addr: addr, argv: argv, env: env}
	return p, p.start()
}

func (p *Process) start() error {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("emulator: start: %w", err)
	}
	p.cmd, p.done = cmd, make(chan error, 1)
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			return fmt.Errorf("emulator: exited before it answered: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	return fmt.Errorf("emulator: no answer on %s within 30 s", p.Addr)
}

// FreeAddr returns a loopback address no one listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Config is an AWS config for the emulator.
func (p *Process) Config() aws.Config { return Config("http://" + p.Addr) }

// Pid is the emulator's process id; a Restart gives it a new one (0
// when it is not running).
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stop stops the emulator cleanly (SIGTERM: it finishes the requests it
// has and writes its state) and waits for it, killing it after 30 s.
func (p *Process) Stop() error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("emulator: stop: %w", err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("emulator: stop: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		return errors.New("emulator: stop: no exit within 30 s; killed")
	}
}

// Restart stops the emulator cleanly and starts it again on the same
// address and state.
func (p *Process) Restart() error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.start()
}

func (p *Process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
