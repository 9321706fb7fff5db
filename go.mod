module github.com/cplock/plock

go 1.26
