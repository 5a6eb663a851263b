-- put_settings.lua: wrk script for case (e), a settings update (merge, validation, audit row).
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"settings":{"branding":{"primary_color":"#1f6feb"},"security":{"session_timeout_minutes":90}}}'
