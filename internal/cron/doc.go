// Package cron parses five-field cron expressions and computes when they
// fire. The coordinator uses it for schedules ("retrain and rescore every
// night at two"): the leader calls [Schedule.Next] or [Schedule.Between],
// decides which runs are due, and commits each run to raft before it is
// dispatched. The FSM never evaluates a schedule, so followers need not agree
// on the clock or on the time-zone database; they apply what the leader
// decided.
//
// # Syntax
//
// An expression is five fields separated by blanks:
//
//	minute        0-59
//	hour          0-23
//	day-of-month  1-31
//	month         1-12 or jan-dec
//	day-of-week   0-7 or sun-sat (0 and 7 are both Sunday)
//
// A field is a comma-separated list of items. An item is a value, a range
// a-b (inclusive, a ≤ b), or "*" for the whole field, and a range or "*" may
// carry a step: "*/15", "1-5/2", "mon-fri/2". Names are three letters in any
// case. A bare value with a step ("5/15") is an error, as in Vixie cron and
// cronie; write "5-59/15".
//
// One descriptor may replace the five fields: @yearly and @annually
// (0 0 1 1 *), @monthly (0 0 1 * *), @weekly (0 0 * * 0), @daily and
// @midnight (0 0 * * *), @hourly (0 * * * *).
//
// The expression may start with "CRON_TZ=<IANA zone> ", as in cronie and
// robfig/cron: fields are then read on that zone's wall clock. Without it
// they are read in UTC, never in the machine's local zone, because the
// coordinators of one cluster need not share one. The zone is part of the
// string, so [Schedule.String] (and the text form used in JSON) carries the
// whole schedule. The package embeds the time-zone database
// (time/tzdata) so that CRON_TZ works in the FROM-scratch image; a system
// database, when present, takes precedence.
//
// # Day of month and day of week
//
// As in Vixie cron and cronie, when either day field begins with "*" a day
// must match both fields; otherwise (both restricted) it must match either.
// So "0 0 13 * 5" fires on the 13th and on every Friday, "0 0 13 * *" on the
// 13th only, and — the classic surprise, kept for compatibility —
// "0 0 */2 * 1" fires on Mondays that fall on an odd day of the month.
//
// # Daylight-saving time
//
// The behaviour is cronie's (the cron of Debian, Fedora and RHEL; see cron(8),
// "Special considerations exist when the clock is changed"), which depends on
// whether the schedule is a wildcard schedule, one whose minute or hour field
// begins with "*" (as "*/15 * * * *", "30 * * * *" or @hourly):
//
//   - Spring forward (a wall-clock interval that never happens). A
//     fixed-time schedule whose times fall in the gap fires once, at the
//     first instant after it: "30 2 * * *" in Europe/Berlin fires at 03:00
//     CEST on 2026-03-29. A wildcard schedule follows the new wall clock and
//     skips the missing times: "30 * * * *" fires at 01:30 CET, then 03:30
//     CEST.
//   - Fall back (a wall-clock interval that happens twice). A fixed-time
//     schedule fires at the first occurrence only: "30 2 * * *" fires at
//     02:30 CEST on 2026-10-25, not again at 02:30 CET. A wildcard schedule
//     fires on both passes, so "30 * * * *" still fires once an hour.
//
// Two differences from the daemon, both because Next returns one instant
// per firing and firings strictly increase: when several fixed times fall
// in one gap ("0,30 2 * * *"), cronie starts the job once per time and we
// fire once; and cronie catches up only after clock changes of less than
// three hours, while we apply the rule to any gap or overlap in the zone's
// history.
//
// # Limits
//
// Times are computed to the minute; Next returns instants whose wall-clock
// seconds are zero. Next looks five years ahead and returns the zero time if
// nothing fires by then: "0 0 30 2 *" never fires, and "0 0 29 2 *" returns
// zero from March 2096, since 2100 is not a leap year.
package cron
