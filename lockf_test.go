//go:build linux && cgo

package plock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The other process of the lockf tests: the test binary as the helper
// "lockf", which opens the file named by its argument and obeys commands
// on its standard input, one a line, answering each with "@@ reply".
//
//	seek N          seek its first descriptor to N
//	lockf CMD LEN   Lockf on its first descriptor (CMD: the LockfCmd value)
//	open2           open the file a second time
//	close2          close that second descriptor
func init() {
	helpers["lockf"] = func(path string) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		must(err, "open")
		var f2 *os.File
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			w := strings.Fields(in.Text())
			reply := "OK"
			switch w[0] {
			case "seek":
				n, _ := strconv.ParseInt(w[1], 10, 64)
				_, err = f.Seek(n, io.SeekStart)
				must(err, "seek")
			case "lockf":
				c, _ := strconv.Atoi(w[1])
				n, _ := strconv.ParseInt(w[2], 10, 64)
				reply = errnoName(Lockf(int(f.Fd()), LockfCmd(c), n))
			case "open2":
				f2, err = os.OpenFile(path, os.O_RDWR, 0)
				must(err, "open2")
			case "close2":
				must(f2.Close(), "close2")
			default:
				fail("unknown command %q", w[0])
			}
			report("reply", reply)
		}
	}
}

// peer is a running "lockf" helper.
type peer struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

func startPeer(t *testing.T, path string) *peer {
	cmd := helperCmd(t, "lockf", path, helperOpts{})
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		assert.NoError(t, cmd.Wait(), "lockf helper")
	})
	return &peer{t: t, in: in, out: bufio.NewScanner(out)}
}

// do sends one command and returns the reply: "OK" or an errno name.
func (p *peer) do(format string, args ...any) string {
	p.t.Helper()
	_, err := fmt.Fprintf(p.in, format+"\n", args...)
	require.NoError(p.t, err)
	for p.out.Scan() {
		if rest, ok := strings.CutPrefix(p.out.Text(), outPrefix+"reply "); ok {
			s, err := strconv.Unquote(rest)
			require.NoError(p.t, err)
			return s
		}
	}
	p.t.Fatalf("lockf helper: no reply to %q: %v", fmt.Sprintf(format, args...), p.out.Err())
	return ""
}

// lock has the peer lock length bytes from offset.
func (p *peer) lock(offset, length int64) {
	p.t.Helper()
	p.do("seek %d", offset)
	require.Equal(p.t, "OK", p.do("lockf %d %d", LockfLock, length))
}

// lockfFile makes a 10-byte file and opens it in this process.
func lockfFile(t *testing.T) (string, *os.File) {
	path := filepath.Join(t.TempDir(), "records")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o600))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return path, f
}

// at runs Lockf on f from offset.
func at(t *testing.T, f *os.File, offset int64, cmd LockfCmd, length int64) error {
	t.Helper()
	_, err := f.Seek(offset, io.SeekStart)
	require.NoError(t, err)
	return Lockf(int(f.Fd()), cmd, length)
}

// requireHeld checks that err is Lockf's "held by another process".
func requireHeld(t *testing.T, err error, cmd LockfCmd) {
	t.Helper()
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EAGAIN), "%v", err)
	var le *LockfError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, cmd, le.Cmd)
	assert.Contains(t, err.Error(), "lockf "+cmd.String()+" on fd ")
}

func TestLockfHeldByAnotherProcess(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	p.lock(0, 100)
	requireHeld(t, at(t, f, 0, LockfTryLock, 100), LockfTryLock)
	requireHeld(t, at(t, f, 0, LockfTest, 100), LockfTest)
	requireHeld(t, at(t, f, 99, LockfTryLock, 1), LockfTryLock)
	// Past the peer's section: free.
	assert.NoError(t, at(t, f, 100, LockfTest, 10))
	assert.NoError(t, at(t, f, 100, LockfTryLock, 10))
	// And now held by this process, as the peer sees.
	p.do("seek 105")
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 1", LockfTest))
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 1", LockfTryLock))
	p.do("seek 110")
	assert.Equal(t, "OK", p.do("lockf %d 1", LockfTest))
}

func TestLockfRangesFromTheOffset(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	p.lock(0, 100) // [0, 100)
	// Negative lengths: the bytes before the offset.
	requireHeld(t, at(t, f, 150, LockfTryLock, -60), LockfTryLock) // [90, 150)
	assert.NoError(t, at(t, f, 160, LockfTryLock, -60))            // [100, 160)
	// 0: from the offset to the end of the file and beyond.
	p.lock(1000, 0) // [1000, ∞), far past the 10 bytes of the file
	requireHeld(t, at(t, f, 5000, LockfTryLock, 1), LockfTryLock)
	requireHeld(t, at(t, f, 1<<40, LockfTest, 1), LockfTest)
	requireHeld(t, at(t, f, 900, LockfTryLock, 0), LockfTryLock)
	assert.NoError(t, at(t, f, 999, LockfTryLock, 1))
	assert.NoError(t, at(t, f, 500, LockfTryLock, 500)) // [500, 1000)
}

func TestLockfUnlock(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	require.NoError(t, at(t, f, 0, LockfLock, 100))
	p.do("seek 50")
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 10", LockfTryLock))
	require.NoError(t, at(t, f, 40, LockfUnlock, 20)) // [40, 60) only
	assert.Equal(t, "OK", p.do("lockf %d 10", LockfTryLock))
	p.do("seek 0")
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 10", LockfTest))
}

func TestLockfLockWaits(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	p.lock(0, 100)
	_, err := f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- Lockf(int(f.Fd()), LockfLock, 100) }()
	select {
	case err := <-done:
		t.Fatalf("LockfLock returned %v while the section was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	p.do("seek 0")
	require.Equal(t, "OK", p.do("lockf %d 100", LockfUnlock))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("LockfLock still waiting a minute after the release")
	}
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 100", LockfTest))
}

func TestLockfReleasedOnCloseOfAnyDescriptor(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	p.do("open2")
	p.lock(0, 0)
	requireHeld(t, at(t, f, 0, LockfTryLock, 0), LockfTryLock)
	p.do("close2") // not the descriptor it locked through
	assert.NoError(t, at(t, f, 0, LockfTryLock, 0))
}

func TestLockfContext(t *testing.T) {
	path, f := lockfFile(t)
	p := startPeer(t, path)
	p.lock(0, 100)
	_, err := f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	fd := int(f.Fd())

	// While the peer holds the section, the wait ends only with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = LockfContext(ctx, fd, 100)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	assert.ErrorIs(t, LockfContext(ctx2, fd, 100), context.Canceled)

	// Ordered by events, not by the clock: still waiting while the peer
	// holds it (however slow the machine), done once the peer releases it.
	ctx3, cancel3 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel3()
	errc := make(chan error, 1)
	go func() { errc <- LockfContext(ctx3, fd, 100) }()
	select {
	case err := <-errc:
		t.Fatalf("LockfContext returned %v while the peer held the section", err)
	case <-time.After(300 * time.Millisecond):
	}
	p.do("seek 0")
	require.Equal(t, "OK", p.do("lockf %d 100", LockfUnlock))
	require.NoError(t, <-errc)
	assert.Contains(t, []string{"EACCES", "EAGAIN"}, p.do("lockf %d 100", LockfTest), "this process holds it now")
}

func TestLockfBadDescriptor(t *testing.T) {
	err := Lockf(-1, LockfTryLock, 0)
	assert.ErrorIs(t, err, syscall.EBADF)
	err = LockfContext(context.Background(), -1, 0)
	assert.ErrorIs(t, err, syscall.EBADF)
}
