module github.com/etlc/etlc/bench

go 1.26

replace github.com/etlc/etlc => ../
