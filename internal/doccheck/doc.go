// Package doccheck holds tests of the documents, not code: that every file,
// C function or macro, Go identifier, make target and cplock command a
// document names exists (TestNamesExist); that the tables of what each op
// locks in docs/CONTRACT.md and plock(3) are the C library's own table
// (TestOpTables); and that plock(3)'s synopsis is the headers' prototypes
// (TestManSynopsisIsTheHeaders). They run in the go/docs job of "make test".
package doccheck
