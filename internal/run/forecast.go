package run

import (
	"context"
	"errors"
)

// evalForecast is wired when the forecasting engine lands.
func evalForecast(ctx context.Context, e *env, dir string) error {
	return errors.New("the forecast evaluation is not available in this build")
}
