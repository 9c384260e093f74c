module leakwatch/gotest

go 1.19
