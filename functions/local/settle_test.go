package main

import "testing"

func TestCPUTimes(t *testing.T) {
	for _, c := range []struct {
		name        string
		stat        string
		idle, total uint64
		ok          bool
	}{
		{"every field", "cpu  100 5 50 800 20 1 2 3 40 0\ncpu0 50 2 25 400 10 0 1 1 20 0\n", 820, 981, true},
		{"an old kernel's four fields", "cpu 10 0 10 80\n", 80, 100, true},
		{"a core's line first", "cpu0 1 2 3 4 5\n", 0, 0, false},
		{"cut short", "cpu 1 2 3\n", 0, 0, false},
		{"not a number", "cpu 1 2 x 4 5\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			idle, total, ok := cpuTimes([]byte(c.stat))
			if idle != c.idle || total != c.total || ok != c.ok {
				t.Errorf("cpuTimes = %d, %d, %v; want %d, %d, %v", idle, total, ok, c.idle, c.total, c.ok)
			}
		})
	}
}
