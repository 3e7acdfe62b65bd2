"""The step wizard: a server-side draft of a new template step, filled in one stage at a time.

A draft lives in the session (``session["wizard"][draft_id]``), bound to the practice and the
template group it was started for (``drafts``). It keeps each stage's raw form values, so Back,
Edit and a half-finished stage show exactly what was typed; the stage forms (``forms``) parse
those values again whenever the step's fields are needed. Each stage is checked with the same
rules as the template editor (``step_types.config_errors``), keeping only the problems of its
own fields (``steps``). Nothing touches the database until ``steps.create_step``, which checks
the whole draft again and calls ``building.add_step``. ``review`` words the summary and renders
the live preview.
"""
