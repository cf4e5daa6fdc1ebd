package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// State is a long run's partial results, saved after every store and
// workload, so a run that stops (a deadline, a crash, a reboot) resumes
// where it stopped instead of reloading stores it has already measured.
type State struct {
	path string
	// Params are the run's parameters (scale, seed, durations ...): rows
	// measured under other parameters must not be mixed into one table.
	Params string
	// Runs are the invocations that measured the rows, in order.
	Runs []Run
	Rows []Row
}

// Run is one invocation: its command line and when it started and ended
// (zero while it runs), so the table can state the run's real wall time.
type Run struct {
	Command           string
	Started, Finished time.Time
}

// OpenState reads the state at path, or starts an empty one when the file
// does not exist; with path "" it is kept in memory only. It refuses a
// state written with other parameters, and records this invocation,
// started now, as the state's last run.
func OpenState(path, params, command string) (*State, error) {
	s := &State{path: path, Params: params}
	if path != "" {
		b, err := os.ReadFile(path) //nolint:gosec // the caller's own results file
		switch {
		case errors.Is(err, fs.ErrNotExist): // a new run
		case err != nil:
			return nil, fmt.Errorf("read state: %w", err)
		default:
			if err := json.Unmarshal(b, s); err != nil {
				return nil, fmt.Errorf("state %s: %w", path, err)
			}
		}
	}
	if s.Params != params {
		return nil, fmt.Errorf("state %s was written by a run with %q, this run has %q: remove it to start over", path, s.Params, params)
	}
	s.Runs = append(s.Runs, Run{Command: command, Started: time.Now()})
	return s, nil
}

// Has reports whether store's result on workload is already saved.
func (s *State) Has(store, workload string) bool {
	for _, r := range s.Rows {
		if r.Store == store && r.Workload == workload {
			return true
		}
	}
	return false
}

// Add saves r: the file is replaced by a rename, so a crash mid-write
// leaves the previous state intact.
func (s *State) Add(r Row) error {
	s.Rows = append(s.Rows, r)
	return s.save()
}

// Finish records the end of this invocation.
func (s *State) Finish() error {
	s.Runs[len(s.Runs)-1].Finished = time.Now()
	return s.save()
}

func (s *State) save() error {
	if s.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
