// A pure Go program for cplock's tests (built with CGO_ENABLED=0): prints
// its own VmLck line and "ready", then reads stdin to its end.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmLck:") {
			fmt.Println(l)
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
