package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Throughput on a shared two-core machine moves by tens of percent from run to run, with whatever
// else runs beside the benchmark. The CPU time the server spends per request moves far less: it
// counts the work a request costs, not how much of the machine the server got. So every operation
// also reports it, for the serve process and, on PostgreSQL, for the database's processes, which do
// most of a write's work there.

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, which Linux fixes at 100 on
// every architecture Go runs on.
const clockTick = 10 * time.Millisecond

// cpuMeter reads the CPU time the server and, when database is set, every PostgreSQL process on this
// machine have used so far.
type cpuMeter struct {
	server   *process
	database bool
}

// reading is the CPU time used by the server and by the database, so far.
type reading struct{ server, database time.Duration }

// read returns the CPU used so far. Processes that are gone are skipped: a PostgreSQL backend that exits
// mid-run hands its time to the postmaster's children total, which is counted too.
func (m cpuMeter) read() (reading, error) {
	var r reading
	t, err := processCPU(m.server.cmd.Process.Pid, false)
	if err != nil {
		return r, err
	}
	r.server = t
	if !m.database {
		return r, nil
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return r, err
	}
	for _, dir := range dirs {
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		if t, err := processCPU(pid, true); err == nil {
			r.database += t
		}
	}
	return r, nil
}

// processCPU returns a process's user and system CPU time from /proc/PID/stat, with that of its
// waited-for children when children is set.
func processCPU(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	t, err := parseStat(b, children)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return t, nil
}

// parseStat returns the CPU time in a /proc/PID/stat line: utime and stime, and cutime and cstime
// when children is set.
func parseStat(b []byte, children bool) (time.Duration, error) {
	// The command name, in parentheses, may hold spaces: the fields that follow start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name")
	}
	fields := strings.Fields(string(b[i+1:]))
	// After the name come state (field 3 of the whole line) and so on: utime and stime are fields 14
	// and 15, cutime and cstime 16 and 17, so indices 11 to 14 here.
	last := 12
	if children {
		last = 14
	}
	if len(fields) <= last {
		return 0, fmt.Errorf("%d fields after the command name", len(fields))
	}
	var ticks int64
	for _, f := range fields[11 : last+1] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// perRequest returns the CPU used between two readings per successful request, in microseconds.
func perRequest(before, after reading, requests int) (server, database float64) {
	if requests <= 0 {
		return 0, 0
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(requests) }
	return us(after.server - before.server), us(after.database - before.database)
}
