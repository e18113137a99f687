#!/usr/bin/env bash
# Starts a clickhouse-server (Debian's package) on DIR with its HTTP
# interface on PORT, in the background, and waits until it answers; prints
# its pid. The data stays in DIR for the next start.
#   scripts/clickhouse-server.sh DIR PORT
set -euo pipefail
dir=$(realpath -m "$1")
port=$2
mkdir -p "$dir"
cat > "$dir/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/error.log</errorlog></logger>
  <http_port>$port</http_port><tcp_port>$((port + 1))</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path><tmp_path>$dir/tmp/</tmp_path><user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>1073741824</mark_cache_size>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
XML
cat > "$dir/users.xml" <<XML
<yandex><profiles><default><max_memory_usage>4000000000</max_memory_usage><log_queries>1</log_queries></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
  <profile>default</profile><quota>default</quota></default></users><quotas><default></default></quotas></yandex>
XML
(cd "$dir" && exec clickhouse-server --config-file="$dir/config.xml" > /dev/null 2>&1) &
pid=$!
for _ in $(seq 600); do
  [ "$(curl -s "http://127.0.0.1:$port/ping" || true)" = "Ok." ] && { echo "$pid"; exit 0; }
  sleep 0.1
done
echo "clickhouse-server did not start; see $dir/error.log" >&2
exit 1
