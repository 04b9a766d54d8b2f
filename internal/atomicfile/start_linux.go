package atomicfile

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// startedAfter reports whether the process pid started after t (so it
// cannot have written a file at t). It is false when that cannot be told.
func startedAfter(pid int, t time.Time) bool {
	start, ok := processStart(pid)
	// /proc gives the boot time in whole seconds: allow for that.
	return ok && start.After(t.Add(2*time.Second))
}

// userHZ is the unit of the start time in /proc/PID/stat (USER_HZ, 100 on
// every architecture Go supports).
const userHZ = 100

// processStart reads when process pid started, from /proc.
func processStart(pid int) (time.Time, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * time.Second / userHZ), true
}

// bootTime reads the btime line of /proc/stat.
func bootTime() (time.Time, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(n, 0), true
		}
	}
	return time.Time{}, false
}
