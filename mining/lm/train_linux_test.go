package lm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestTrainDiskFull spills to a 16 KiB tmpfs (mounting needs root) and
// checks that the full disk is an error naming the file.
func TestTrainDiskFull(t *testing.T) {
	train := readFixture(t, "train.txt.gz")
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16k"); err != nil {
		if os.Getenv("CI") != "" && os.Geteuid() == 0 {
			t.Fatalf("mounting a tmpfs: %v", err)
		}
		t.Skipf("mounting a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	tr, _ := NewTrainer(4, WithMemory(64<<10), WithTempDir(dir))
	defer tr.Close()
	err := tr.AddText(bytes.NewReader(train), Whitespace)
	if err == nil {
		_, err = tr.WriteARPA(context.Background(), io.Discard)
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), dir+"/sift-lm-") {
		t.Fatalf("error %v, want ENOSPC naming a file in %s", err, dir)
	}
	t.Log(err)
}
