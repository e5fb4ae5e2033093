package virtual

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"showpos/device"
)

// scanQueue is how many payloads wait for ReadPayload. When it is full the
// pty is not read, so writers block as on a real serial line.
const scanQueue = 16

// scanner reads payloads from the master side of a pty whose slave is the
// simulated scanner's serial port.
type scanner struct {
	path  string
	max   int
	log   *slog.Logger
	items chan scanItem

	master *os.File // non-blocking, so close interrupts a read
	slave  *os.File // held open: writers come and go without hanging up

	halted    chan struct{}
	haltOnce  sync.Once
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func newScanner(max int, log *slog.Logger) (*scanner, error) {
	m, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("virtual scanner: open pty: %w", err)
	}
	// creack/pty's master is in blocking mode (it calls Fd): a Read could
	// not be interrupted by Close. Reopen it as a pollable file.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("virtual scanner: pty master: %w", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	// Raw slave: no echo, no canonical editing, no CR/LF translation, so
	// the bytes written are the bytes read, whoever opens it and however.
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("virtual scanner: raw pty: %w", err)
	}
	s := &scanner{
		path:   slave.Name(),
		max:    max,
		log:    log,
		items:  make(chan scanItem, scanQueue),
		master: master,
		slave:  slave,
		halted: make(chan struct{}),
	}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

// makeRaw is cfmakeraw(3) on f.
func makeRaw(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = sc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ioErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP |
			unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN] = 1
		t.Cc[unix.VTIME] = 0
		ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return ioErr
}

// unlockEvery is how often the reader lifts a writer's exclusive lock.
const unlockEvery = time.Second

// read owns the master: it splits what writers send into payloads.
//
// It also clears the slave's exclusive-use flag (TIOCEXCL) at least every
// unlockEvery. go.bug.st/serial sets it on open and clears it on Close; a
// writer that dies without Close would leave it set, and since the board
// holds the slave open the flag would outlive the writer, refusing every
// later open by a non-root user (EBUSY).
func (s *scanner) read() {
	defer s.wg.Done()
	sp := splitter{max: s.max}
	buf := make([]byte, 4096)
	for {
		s.master.SetReadDeadline(time.Now().Add(unlockEvery))
		n, err := s.master.Read(buf)
		sp.feed(buf[:n], func(it scanItem) {
			if it.err != nil {
				s.log.Warn("virtual scanner: line over cap dropped", "max", s.max)
			}
			select {
			case s.items <- it:
			case <-s.halted:
			}
		})
		s.unlock()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				s.log.Error("virtual scanner: pty read", "err", err)
			}
			return
		}
	}
}

// unlock clears the slave's exclusive-use flag.
func (s *scanner) unlock() {
	sc, err := s.slave.SyscallConn()
	if err != nil {
		return
	}
	sc.Control(func(fd uintptr) {
		if err := unix.IoctlSetInt(int(fd), unix.TIOCNXCL, 0); err != nil {
			s.log.Debug("virtual scanner: TIOCNXCL", "err", err)
		}
	})
}

func (s *scanner) String() string { return "virtual scanner " + s.path }

// ReadPayload returns the next line written to the pty (or POSTed to the
// page), or device.ErrTooLarge in place of a line over the cap.
func (s *scanner) ReadPayload(ctx context.Context) ([]byte, error) {
	select {
	case <-s.halted:
		return nil, fmt.Errorf("virtual scanner: %w", device.ErrHalted)
	default:
	}
	select {
	case it := <-s.items:
		if it.err != nil {
			return nil, fmt.Errorf("virtual scanner: %w", it.err)
		}
		return it.payload, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.halted:
		return nil, fmt.Errorf("virtual scanner: %w", device.ErrHalted)
	}
}

// offer queues an item without waiting; false if the queue is full.
func (s *scanner) offer(it scanItem) (bool, error) {
	select {
	case <-s.halted:
		return false, fmt.Errorf("virtual scanner: %w", device.ErrHalted)
	default:
	}
	select {
	case s.items <- it:
		return true, nil
	default:
		return false, nil
	}
}

// Halt makes ReadPayload fail with device.ErrHalted; the pty stays open
// (and is drained) until the board closes.
func (s *scanner) Halt() error {
	s.haltOnce.Do(func() { close(s.halted) })
	return nil
}

// close shuts the pty and waits for the reader.
func (s *scanner) close() error {
	s.closeOnce.Do(func() {
		s.Halt()
		err1 := s.master.Close()
		s.wg.Wait()
		err2 := s.slave.Close()
		if err := errors.Join(err1, err2); err != nil {
			s.closeErr = fmt.Errorf("virtual scanner: close pty: %w", err)
		}
	})
	return s.closeErr
}
