# Converts the M3 competition's quarterly series from the R package Mcomp
# (data/M3.rda and data/M3Forecast.rda, GitHub robjhyndman/Mcomp) into the
# CSV layout that `phantomos eval forecast` reads, the same as the monthly
# folder's:
#
#   Rscript eval/forecast/m3-quarterly.R M3.rda M3Forecast.rda OUTDIR
#
# writes OUTDIR/m3_quarterly.csv (series_id, category, description,
# start_year, start_quarter, n_train, h, train, test) and
# OUTDIR/m3_quarterly_published_forecasts.csv (series_id, method, forecast).
# Values are unchanged; lists are space-separated.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: m3-quarterly.R M3.rda M3Forecast.rda OUTDIR")
load(args[[1]])
load(args[[2]])
out <- args[[3]]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(v) paste(format(as.numeric(v), digits = 15, trim = TRUE), collapse = " ")
q <- Filter(function(s) s$period == "QUARTERLY", M3)
rows <- data.frame(
  series_id = sapply(q, function(s) s$sn),
  category = sapply(q, function(s) s$type),
  description = gsub(",", ";", sapply(q, function(s) s$description)),
  start_year = sapply(q, function(s) start(s$x)[1]),
  start_quarter = sapply(q, function(s) start(s$x)[2]),
  n_train = sapply(q, function(s) length(s$x)),
  h = sapply(q, function(s) length(s$xx)),
  train = sapply(q, function(s) num(s$x)),
  test = sapply(q, function(s) num(s$xx)),
  stringsAsFactors = FALSE
)
write.csv(rows, file.path(out, "m3_quarterly.csv"), row.names = FALSE)
# M3Forecast: one data frame per method, a row per M3 series in M3's order.
ids <- sapply(M3, function(s) s$sn)
isq <- sapply(M3, function(s) s$period == "QUARTERLY")
pub <- NULL
for (method in names(M3Forecast)) {
  f <- M3Forecast[[method]]
  if (nrow(f) != length(M3)) next
  for (i in which(isq)) {
    v <- as.numeric(f[i, seq_len(length(M3[[i]]$xx))])
    if (any(is.na(v))) next
    pub <- rbind(pub, data.frame(series_id = ids[i], method = method, forecast = num(v), stringsAsFactors = FALSE))
  }
}
write.csv(pub, file.path(out, "m3_quarterly_published_forecasts.csv"), row.names = FALSE)
cat(sprintf("%d quarterly series, %d published forecasts\n", nrow(rows), if (is.null(pub)) 0 else nrow(pub)))
