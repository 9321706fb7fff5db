// Package doccheck holds tests of the documents, not code: that every file,
// C function or macro, Go identifier and make target a document names
// exists (TestNamesExist), and that the tables of what each op locks in
// docs/CONTRACT.md and plock(3) are the C library's own table
// (TestOpTables), and that plock(3)'s synopsis is the headers' prototypes
// (TestManSynopsisIsTheHeaders), so that the documents cannot drift from
// the tree. They
// run in the go/docs job of "make test".
package doccheck
