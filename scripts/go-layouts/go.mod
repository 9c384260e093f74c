module leakwatch/golayouts

go 1.19
