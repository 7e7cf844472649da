//go:build !unix

package forecast

import "time"

// processCPUTime returns 0: CPU time is not measured on this platform.
func processCPUTime() time.Duration { return 0 }
