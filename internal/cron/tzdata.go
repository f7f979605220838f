package cron

// The deploy image is built FROM scratch, with no /usr/share/zoneinfo;
// without an embedded database every CRON_TZ would fail to parse there.
import _ "time/tzdata"
