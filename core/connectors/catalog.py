"""The connector catalog: every template file, loaded and validated once.

>>> catalog = load_catalog()
>>> catalog.get("hubspot").name
'HubSpot'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from core.connectors.template import ConnectorTemplate
from core.errors import ConfigurationError, NotFound

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Catalog:
    """The templates by id, in the order they are shown."""

    templates: dict[str, ConnectorTemplate]

    def get(self, template_id: str) -> ConnectorTemplate:
        """The template ``template_id``; an unknown id names the valid ones."""
        try:
            return self.templates[template_id]
        except KeyError:
            valid = ", ".join(sorted(self.templates))
            raise NotFound(
                f"There is no connector template called {template_id!r}.",
                fix=f"Pick one of: {valid}.",
            ) from None

    def __iter__(self):  # noqa: ANN204
        return iter(self.templates.values())


def parse_template(text: str, source: str) -> ConnectorTemplate:
    """Validate one template's YAML; errors name the file and the offending key."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"Connector template {source} is not valid YAML ({exc}).",
            fix="Fix the file's syntax.",
        ) from None
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"Connector template {source} is not a mapping of keys to values.",
            fix="Start the file with 'id:', 'name:', 'category:' ... as the other templates do.",
        )
    try:
        template = ConnectorTemplate.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(
            f"Connector template {source} is invalid: {problems}.",
            fix="Correct those keys; see core/connectors/template.py for the allowed shapes.",
        ) from None
    _check_placeholders(template, source)
    return template


def _check_placeholders(template: ConnectorTemplate, source: str) -> None:
    """Every ``{name}`` in the base URL and the check must be a form field."""
    names = {f.name for f in template.fields}
    texts = [template.base_url]
    if template.check:
        texts.append(template.check.path)
        texts.extend(template.check.params.values())
    texts.extend(s.path for s in template.streams)
    for text in texts:
        for name in _PLACEHOLDER.findall(text):
            if name not in names:
                raise ConfigurationError(
                    f"Connector template {source} uses {{{name}}} but has no field '{name}'.",
                    fix=f"Add a field named '{name}' or remove the placeholder.",
                )


def load_catalog(directory: Path | None = None) -> Catalog:
    """Read every ``*.yaml`` in ``directory``; ids must be unique and match the file name."""
    templates: dict[str, ConnectorTemplate] = {}
    for path in sorted((directory or TEMPLATES_DIR).glob("*.yaml")):
        template = parse_template(path.read_text(encoding="utf-8"), path.name)
        if template.id != path.stem:
            raise ConfigurationError(
                f"Connector template {path.name} has id {template.id!r}.",
                fix=f"Name the file {template.id}.yaml or set id: {path.stem}.",
            )
        templates[template.id] = template
    order = {"other": 9}
    return Catalog(
        dict(sorted(templates.items(), key=lambda kv: (order.get(kv[1].category, 0), kv[1].name)))
    )


@cache
def default_catalog() -> Catalog:
    """The shipped catalog, loaded once per process."""
    return load_catalog()
