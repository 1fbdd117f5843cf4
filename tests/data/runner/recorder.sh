#!/bin/sh
# Test resource script. Installed under several names; every call is
# appended to $HA_LAB/calls as "NAME ARGS OP". State lives in $HA_LAB:
#   running-NAME     the resource runs (status prints "NAME is running")
#   fail-start-NAME  start exits 1
#   fail-stop-NAME   stop exits 1 (and leaves the state as it was)
name=${0##*/}
for op in "$@"; do :; done
echo "$name $*" >> "$HA_LAB/calls"
case $op in
  start)
    [ -e "$HA_LAB/fail-start-$name" ] && exit 1
    touch "$HA_LAB/running-$name";;
  stop)
    [ -e "$HA_LAB/fail-stop-$name" ] && exit 1
    rm -f "$HA_LAB/running-$name";;
  status)
    if [ -e "$HA_LAB/running-$name" ]; then
      echo "$name is running"
    else
      echo "$name is stopped"
    fi;;
esac
exit 0
