module leakwatch/bench/go

go 1.19
