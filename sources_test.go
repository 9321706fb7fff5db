//go:build linux && cgo

package plock

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Makefile builds libplock from every C file of shim/ (a wildcard);
// shim_cgo.c must #include exactly those for the Go package, or the two
// would be different libraries.
func TestShimCgoIncludesEveryShimSource(t *testing.T) {
	src, err := os.ReadFile("shim_cgo.c")
	require.NoError(t, err)
	var included []string
	for _, m := range regexp.MustCompile(`(?m)^#include "(shim/[^"]+\.c)"$`).FindAllSubmatch(src, -1) {
		included = append(included, string(m[1]))
	}
	files, err := filepath.Glob("shim/*.c")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	assert.ElementsMatch(t, files, included, "shim_cgo.c's #includes against shim/*.c")
}
