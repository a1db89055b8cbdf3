"""The IVR: flows from config/ivr/*.toml run by a pure engine over FastAGI or classic AGI.

Public API (see docs/ivr.md for the admin's side):

- ivr.loader.load_flows(dir, known_queues=..., schedules=..., sounds_dir=...) -> {name: Flow}
- ivr.calendar.load_calendar(path) -> Calendar; Calendar.status(schedule, at) -> DayStatus
- ivr.config_dir.load_ivr_config(config_dir) -> (flows, calendar)
- ivr.engine.IvrEngine(flows, crm=, calendar=, clock=).run(flow, channel, call) -> IvrOutcome
- ivr.channel.Channel (protocol), ChannelHangup; ivr.crm.Crm (protocol), InMemoryCrm
- ivr.fastagi.IvrService(flows, crm=, calendar=, clock=, on_outcome=, app=) (routes in app);
  start_fastagi_server(app, host, port, allowed_peers) / fastagi_handler(app, allowed_peers)
- python -m ivr.agi_script <flow>   (classic AGI);   python -m ivr.tts   (prompts)
"""
