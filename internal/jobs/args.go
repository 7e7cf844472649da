package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/phantomos/phantomos"
)

// Job kinds, as stored in River's table. Renaming one strands the jobs of
// the old name, so they never change.
const (
	kindSync     = "connector_sync"
	kindSchedule = "schedule"
	kindImport   = "file_import"
)

// Maximum attempts of each kind before a job is given up with its last
// error. River waits longer after each failure (attempt⁴ seconds, with
// jitter).
const (
	syncAttempts     = 5
	scheduleAttempts = 1 // the next period runs it again anyway
	importAttempts   = 4 // an import is one transaction: each attempt starts afresh
)

// unfinished are the states in which a unique job blocks an equal one:
// waiting or running, not finished (a finished sync must not block the
// next).
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// SyncArgs is a sync of one connector: products, then orders, each from
// its checkpoint. Unique per connector while waiting or running.
type SyncArgs struct {
	Publisher   phantomos.PublisherID `json:"publisher_id"`
	ConnectorID string                `json:"connector_id"`
}

// Kind names the job kind.
func (SyncArgs) Kind() string { return kindSync }

// InsertOpts makes a connector's sync unique while unfinished.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: syncAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// ScheduleArgs is one run of the periodic schedule: insights, due syncs,
// suggestions for new products, expired demo copies.
type ScheduleArgs struct{}

// Kind names the job kind.
func (ScheduleArgs) Kind() string { return kindSchedule }

// InsertOpts keeps the schedule to one run waiting or running at a time.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: scheduleAttempts,
		UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

// ImportArgs is the import of a confirmed upload (store.ImportJob):
// parsed and written in one transaction, so an attempt cut short wrote
// nothing and the next starts afresh. Unique per import job.
type ImportArgs struct {
	Publisher phantomos.PublisherID `json:"publisher_id"`
	ImportID  string                `json:"import_id"`
}

// Kind names the job kind.
func (ImportArgs) Kind() string { return kindImport }

// InsertOpts makes an import job unique while unfinished.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: importAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}
