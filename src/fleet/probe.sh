# tsync's load probe: POSIX sh, nothing to install. Prints `key values…` lines that
# src/fleet/load.rs reads. With the argument `busy`, it also samples the CPU over 0.1 s.
# On Linux it starts one process, df, on purpose: a fork costs about a millisecond, and
# this runs on every host at once. /proc files are read with builtins, and df's output is
# read by tsync.
LC_ALL=C
export LC_ALL
if [ -r /proc/stat ]; then
    echo "os Linux"
    # The shell's `read` takes a byte per system call: read only the lines needed. The
    # first line of /proc/stat sums every CPU; the online CPUs are ranges like `0-3,6`.
    read -r first < /proc/stat
    echo "stat $first"
    cpus=0
    online=
    { read -r online < /sys/devices/system/cpu/online; } 2>/dev/null
    saved=$IFS
    IFS=,
    for range in $online; do
        case $range in
            *-*) cpus=$((cpus + ${range#*-} - ${range%-*} + 1)) ;;
            ?*) cpus=$((cpus + 1)) ;;
        esac
    done
    IFS=$saved
    # Without /sys (some containers), ask getconf.
    [ "$cpus" -gt 0 ] || cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
    echo "cpus $cpus"
    read -r loadavg < /proc/loadavg
    echo "load $loadavg"
    while read -r key value unit; do
        case $key in
            MemTotal:) echo "mem_total_kb $value" ;;
            MemAvailable:) echo "mem_available_kb $value"; break ;;
        esac
    done < /proc/meminfo
    read -r up idle < /proc/uptime
    echo "uptime $up"
    disk=/
else
    echo "os $(uname -s)"
    cpus=$(sysctl -n hw.logicalcpu 2>/dev/null)
    echo "cpus $cpus"
    echo "load $(sysctl -n vm.loadavg 2>/dev/null | tr -d '{}')"
    echo "mem_total_kb $(( $(sysctl -n hw.memsize 2>/dev/null) / 1024 ))"
    # macOS counts free, inactive and speculative pages as available to programs.
    vm_stat 2>/dev/null | awk -v size="$(sysctl -n hw.pagesize 2>/dev/null)" '
        /^Pages (free|inactive|speculative):/ { gsub(/\./, "", $NF); pages += $NF }
        END { if (size > 0) print "mem_available_kb", int(pages * size / 1024) }'
    # No /proc/stat: the CPU share of every process, summed, over the cores.
    ps -A -o %cpu= 2>/dev/null | awk -v n="$cpus" '
        { sum += $1 } END { if (n > 0) printf "busy %.1f\n", sum / n }'
    boot=$(sysctl -n kern.boottime 2>/dev/null | sed 's/^{ sec = \([0-9]*\).*/\1/')
    [ -n "$boot" ] && echo "uptime $(( $(date +%s) - boot ))"
    disk=/System/Volumes/Data
    [ -d "$disk" ] || disk=/
fi
df -Pk "$disk" 2>/dev/null
if [ "${1:-}" = busy ]; then
    # tsync answers the ready line a tenth of a second after it reads it, and times from
    # its answer to `done`. The CPU share is the change between two samples of /proc/stat,
    # the second taken after that pause, and no `sleep` process is started for it.
    echo tsync-ready
    read -r _
    echo done
    if [ -r /proc/stat ]; then
        read -r second < /proc/stat
        echo "stat $second"
    fi
else
    echo done
fi
