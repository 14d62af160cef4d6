// Command lmbench measures `sift lm train` on real text: for each corpus
// size, order and memory budget it runs the command once, as a separate
// process, and prints its user+sys CPU seconds, peak RSS and wall time,
// with the number of spills it reports and whether the ARPA is the same
// for every budget. From the repository:
//
//	go run ./mining/lm/internal/lmbench
//	go run ./mining/lm/internal/lmbench -tokens 1000000 -orders 3,4 -memory 0
//
// It builds sift and the corpus (go run ./mining/lm/internal/realtext, the
// largest size once; smaller sizes are its prefixes, which mix every
// source) in -dir, and reuses the corpus on later runs. The ARPA files are
// hashed and removed.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	dir := flag.String("dir", filepath.Join(os.TempDir(), "sift-lmbench"), "where the binary, corpora and models go")
	tokens := flag.String("tokens", "1000000,13400000", "corpus sizes in whitespace tokens")
	orders := flag.String("orders", "3,4,5", "model orders")
	memory := flag.String("memory", "0,256", "budgets in MiB for --memory; 0 for the default")
	flag.Parse()
	sizes, err := ints(*tokens)
	if err == nil {
		var ords, ms []int
		if ords, err = ints(*orders); err == nil {
			if ms, err = ints(*memory); err == nil {
				err = run(*dir, sizes, ords, ms)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lmbench:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(dir string, sizes, orders, budgets []int) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	sift := filepath.Join(dir, "sift")
	build := exec.Command("go", "build", "-o", sift, "github.com/siftdata/sift/cmd/sift")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building sift: %w", err)
	}
	corpora, err := makeCorpora(dir, sizes)
	if err != nil {
		return err
	}
	fmt.Println("| tokens | order | --memory | CPU s (user+sys) | peak RSS | wall | spills | ARPA |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	spillsRe := regexp.MustCompile(`(\d+) spills`)
	for i, size := range sizes {
		for _, order := range orders {
			var first []byte
			for _, mem := range budgets {
				model := filepath.Join(dir, "model.arpa")
				args := []string{"lm", "train", "--order", strconv.Itoa(order), "--output", model}
				if mem > 0 {
					args = append(args, "--memory", strconv.Itoa(mem))
				}
				cmd := exec.Command(sift, append(args, corpora[i])...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				start := time.Now()
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("sift %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
				}
				wall := time.Since(start)
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
				sum, err := hashFile(model)
				os.Remove(model)
				if err != nil {
					return err
				}
				same := "—"
				if first == nil {
					first = sum
				} else if bytes.Equal(sum, first) {
					same = "same"
				} else {
					same = "DIFFERS"
				}
				spills := "?"
				if m := spillsRe.FindSubmatch(stderr.Bytes()); m != nil {
					spills = string(m[1])
				}
				budget := "default"
				if mem > 0 {
					budget = strconv.Itoa(mem)
				}
				fmt.Printf("| %d | %d | %s | %.2f | %d MB | %.1f s | %s | %s |\n", size, order, budget,
					cpu.Seconds(), ru.Maxrss/1000, wall.Seconds(), spills, same)
			}
		}
	}
	return nil
}

// makeCorpora returns a corpus file per size, the largest written by
// realtext and the others its prefixes, reusing files already in dir.
func makeCorpora(dir string, sizes []int) ([]string, error) {
	paths := make([]string, len(sizes))
	for i, n := range sizes {
		paths[i] = filepath.Join(dir, fmt.Sprintf("corpus-%d.txt", n))
	}
	largest := slices.Max(sizes)
	big := filepath.Join(dir, fmt.Sprintf("corpus-%d.txt", largest))
	if _, err := os.Stat(big); err != nil {
		f, err := os.Create(big + ".tmp")
		if err != nil {
			return nil, err
		}
		gen := exec.Command("go", "run", "github.com/siftdata/sift/mining/lm/internal/realtext", "-tokens", strconv.Itoa(largest))
		gen.Stdout, gen.Stderr = f, os.Stderr
		err = gen.Run()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return nil, fmt.Errorf("building the corpus: %w", err)
		}
		if err := os.Rename(f.Name(), big); err != nil {
			return nil, err
		}
	}
	for i, n := range sizes {
		if _, err := os.Stat(paths[i]); err == nil {
			continue
		}
		if err := prefix(big, paths[i], n); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// prefix copies the lines of src to dst until they hold n tokens.
func prefix(src, dst string, n int) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for tokens := 0; tokens < n && sc.Scan(); {
		tokens += len(strings.Fields(sc.Text()))
		w.Write(sc.Bytes())
		w.WriteByte('\n')
	}
	err = sc.Err()
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
