#!/bin/sh
exec "$(dirname "$0")/../../${BUILD:-build}/unit/store_audit"
