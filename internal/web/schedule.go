package web

import ()
