//go:build ignore

// sample.go makes onlineretail-sample.csv.gz from the full Online Retail
// file: every row of the customers whose id hashes into the sample, and a
// few rows without a customer id, in the original order and bytes.
//
//	go run sample.go -in /path/to/onlineretail.csv.gz
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	in := flag.String("in", "onlineretail.csv.gz", "the full Online Retail CSV (gzip)")
	out := flag.String("out", "onlineretail-sample.csv.gz", "the sample to write")
	customers := flag.Int("customers", 24, "sample the customers whose id's SHA-256 starts with a byte below this (of 256)")
	anonymous := flag.Int("anonymous", 2, "keep rows without a customer id whose SHA-256 starts with a byte below this")
	flag.Parse()
	if err := run(*in, *out, byte(*customers), byte(*anonymous)); err != nil {
		log.Fatal(err)
	}
}

func run(in, out string, customers, anonymous byte) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	zw, err := gzip.NewWriterLevel(o, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.Name = strings.TrimSuffix(filepath.Base(out), ".gz") // and no time: the same bytes every run
	br := bufio.NewReader(zr)
	keyCol := -1
	var rows, kept, ids, noID int
	seen := map[string]bool{}
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if err == io.EOF && text == "" {
			break
		}
		if err != nil && err != io.EOF {
			return err
		}
		rec, perr := csv.NewReader(strings.NewReader(text)).Read()
		if perr != nil {
			return fmt.Errorf("line %d: %v (a record spanning lines is not supported)", line, perr)
		}
		keep := false
		if keyCol < 0 {
			for i, name := range rec {
				if name == "CustomerID" {
					keyCol = i
				}
			}
			if keyCol < 0 {
				return fmt.Errorf("no CustomerID column in %q", text)
			}
			keep = true
		} else {
			rows++
			id := rec[keyCol]
			if id == "" {
				keep = sha256.Sum256([]byte(text))[0] < anonymous
				if keep {
					noID++
				}
			} else if sha256.Sum256([]byte("online-retail-sample/" + id))[0] < customers {
				keep = true
				if !seen[id] {
					seen[id] = true
					ids++
				}
			}
		}
		if keep {
			if line > 1 {
				kept++
			}
			if _, err := zw.Write([]byte(text)); err != nil {
				return err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%d of %d rows: %d customers, %d rows without a customer id\n", kept, rows, ids, noID)
	return nil
}
