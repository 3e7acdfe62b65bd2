"""The step wizard: a server-side draft of a new template step, filled in one stage at a time.

The draft machinery is the core's (`sodium.drafts`): `drafts` here is the wizard's `Creator`
(its stages come from the step type's declaration, `workflows.step_types`) and the context
the stage forms need. A draft keeps each stage's raw form values, so Back, Edit and a
half-finished stage show exactly what was typed; the stage forms (`forms`) add the type's own
fields and parse those values again whenever the step's fields are needed. Saving a stage
binds and cleans that stage's form once, checked with the template editor's rules
(`step_types.config_errors`) keeping only its own fields' problems (`steps`). Nothing touches
the database until `steps.create_step`, which checks the whole draft again and calls
`building.add_step`. `review` words the summary (with the type's own lines) and renders the
live preview.
"""
