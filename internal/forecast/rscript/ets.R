# Forecasts series with the R forecast package, for `phantomos eval forecast`
# to score R's methods beside the engine on the same training parts:
#
#   Rscript internal/forecast/rscript/ets.R IN.csv OUT.csv [METHODS] [CORES]
#
# IN.csv has the columns series_id, season, h, train (space-separated
# values), as the Go side exports them. METHODS is a comma-separated list of
# ets and arima (default "ets"): forecast::ets() and forecast::auto.arima()
# with their default settings. The Go side embeds this file and runs it
# from a temporary copy. OUT.csv gets one row per series and method:
# series_id, method, model (the fitted model), point, lo80, hi80, lo95, hi95
# (space-separated values,
# the 80% and 95% prediction intervals). Needs r-cran-forecast.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: ets.R IN.csv OUT.csv [ets,arima] [CORES]")
methods <- if (length(args) >= 3) strsplit(args[[3]], ",")[[1]] else "ets"
cores <- if (length(args) >= 4) as.integer(args[[4]]) else 1L
bad <- setdiff(methods, c("ets", "arima"))
if (length(bad) > 0) stop("unknown method: ", paste(bad, collapse = ", "))
input <- read.csv(args[[1]], colClasses = c("character", "integer", "integer", "character"))
num <- function(v) paste(format(as.numeric(v), digits = 12, trim = TRUE), collapse = " ")
one <- function(i) {
  r <- input[i, ]
  y <- ts(as.numeric(strsplit(r$train, " ")[[1]]), frequency = max(1L, r$season))
  rows <- list()
  for (m in methods) {
    fit <- if (m == "ets") ets(y) else auto.arima(y)
    f <- forecast(fit, h = r$h, level = c(80, 95))
    rows[[m]] <- data.frame(series_id = r$series_id, method = m, model = gsub(",", "", f$method),
      point = num(f$mean), lo80 = num(f$lower[, 1]), hi80 = num(f$upper[, 1]),
      lo95 = num(f$lower[, 2]), hi95 = num(f$upper[, 2]), stringsAsFactors = FALSE)
  }
  do.call(rbind, rows)
}
idx <- seq_len(nrow(input))
res <- if (cores > 1) parallel::mclapply(idx, one, mc.cores = cores) else lapply(idx, one)
failed <- which(sapply(res, function(x) !is.data.frame(x)))
if (length(failed) > 0) stop("series failed: ", paste(input$series_id[failed], collapse = " "), ": ", res[[failed[1]]])
write.csv(do.call(rbind, res), args[[2]], row.names = FALSE)
