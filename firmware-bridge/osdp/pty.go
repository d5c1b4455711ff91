package osdp

import (
	"errors"
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// OpenPseudoLine is a serial line in software, a pseudo-terminal pair: the
// panel's end, and the reader's end with its path (for a reader that is
// another program). The simulator puts a Device on it; the tests put
// libosdp's reader there. Both ends are raw and pollable, so a deadline or
// Close ends a read on them.
func OpenPseudoLine() (panel, device *os.File, err error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("osdp: pseudo-terminal: %w", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	// pty.Open leaves its files blocking (it takes their Fd), which no
	// deadline reaches: each is reopened non-blocking from a copy.
	if panel, err = pollable(ptmx); err != nil {
		return nil, nil, err
	}
	if device, err = pollable(tty); err != nil {
		panel.Close()
		return nil, nil, err
	}
	for _, f := range []*os.File{panel, device} {
		if err := makeRaw(f); err != nil {
			panel.Close()
			device.Close()
			return nil, nil, err
		}
	}
	return panel, device, nil
}

func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("osdp: pseudo-terminal: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("osdp: pseudo-terminal: %w", err)
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// makeRaw turns off a terminal's line discipline, which would echo and
// translate frames. It goes through SyscallConn, not Fd, which would make
// the file blocking again.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ierr = err
			return
		}
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag &^= unix.CSIZE | unix.PARENB
		tio.Cflag |= unix.CS8
		ierr = unix.IoctlSetTermios(int(fd), unix.TCSETS, tio)
	})
	return errors.Join(err, ierr)
}
