"""The build service, one concept per module: `builds` (submit, status, watch, cancel),
`runner` (one build to its outcome), `progress` and `events` (live state), `status`, `reuse`,
`queue` (the builds table and its workers), `repository` (stored assets), `assets` (their
directories), `registration`, `gaps`, `auto_gate` and `client` (the service over HTTP).
Nothing is imported here: `toolfoundry.builder` exports `BuildService` lazily."""
