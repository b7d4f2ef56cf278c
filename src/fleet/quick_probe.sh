# The load probe of a placement (least-loaded): the login shell runs it as its command, so
# it must cost a host no more than a command of `true` does. Builtins only, on Linux: no
# process is started, and only the first lines of /proc/meminfo are read (the shell's
# `read` takes a byte per system call). Elsewhere it prints nothing usable and tsync sends
# the full probe (probe.sh). tsync appends `df` when it has no recent figure for the disk.
read -r loadavg < /proc/loadavg || exit 1
echo "os Linux"
echo "load $loadavg"
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
echo "cpus $cpus"
while read -r key value unit; do
    case $key in
        MemTotal:) echo "mem_total_kb $value" ;;
        MemAvailable:) echo "mem_available_kb $value"; break ;;
    esac
done < /proc/meminfo
