"""sodium.urlshapes and the `{% url %}` builtin on it: the same URLs as Django's reverse()."""

from __future__ import annotations

from django.template import Context, Template
from django.test import SimpleTestCase, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, reverse

from sodium import urlshapes
from sodium.urlshapes import reverse_ids


def _int_routes(resolver: URLResolver, namespace: str = "", converters: tuple = ()):
    """Yield (name, names of its int parameters) of every named route using only ints."""
    for entry in resolver.url_patterns:
        found = converters + tuple(getattr(entry.pattern, "converters", {}).items())
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _int_routes(entry, inner, found)
        elif isinstance(entry, URLPattern) and entry.name:
            if all(type(c).__name__ == "IntConverter" for _n, c in found):
                yield f"{namespace}{entry.name}", [n for n, _c in found]


def _show(request, **kwargs):  # pragma: no cover - never called, only reversed
    raise AssertionError


urlpatterns = [
    path("a/<int:one>/b/<int:two>/", _show, name="two"),
    path("slug/<slug:slug>/", _show, name="slug"),
    path("year/<int:year>/", _show, name="year"),
    path("a&b/<int:one>/", _show, name="amp"),
]


class ReverseIdsTests(SimpleTestCase):
    def test_it_gives_what_reverse_gives_for_every_route_of_ints(self) -> None:
        routes = list(_int_routes(get_resolver()))
        self.assertGreater(len(routes), 100)
        for name, params in routes:
            for ids in ([7] * len(params), list(range(1, len(params) + 1)), [0] * len(params)):
                with self.subTest(name=name, ids=ids):
                    self.assertEqual(reverse_ids(name, ids), reverse(name, args=ids))
                    kwargs = dict(zip(params, ids, strict=True))
                    self.assertEqual(reverse_ids(name, kwargs=kwargs), reverse(name, kwargs=kwargs))

    def test_it_hands_anything_but_ids_to_reverse(self) -> None:
        self.assertEqual(
            reverse_ids("sodium:task-detail", ["12"]), reverse("sodium:task-detail", args=["12"])
        )
        with self.assertRaises(NoReverseMatch):
            reverse_ids("sodium:task-detail", [-1])
        with self.assertRaises(NoReverseMatch):
            reverse_ids("sodium:task-detail", [True])
        with self.assertRaises(NoReverseMatch):
            reverse_ids("sodium:no-such-page", [1])

    @override_settings(ROOT_URLCONF=__name__)
    def test_it_keeps_the_order_of_several_ids_and_falls_back_off_ints(self) -> None:
        self.assertEqual(reverse_ids("two", [3, 45]), "/a/3/b/45/")
        self.assertEqual(reverse_ids("two", kwargs={"two": 45, "one": 3}), "/a/3/b/45/")
        self.assertEqual(reverse_ids("slug", ["x-1"]), "/slug/x-1/")
        self.assertEqual(reverse_ids("year", [2026]), "/year/2026/")

    def test_it_forgets_the_shapes_when_the_url_configuration_changes(self) -> None:
        reverse_ids("sodium:task-detail", [1])
        with override_settings(ROOT_URLCONF=__name__):
            self.assertEqual(reverse_ids("two", [1, 2]), "/a/1/b/2/")
            with self.assertRaises(NoReverseMatch):
                reverse_ids("sodium:task-detail", [1])
        self.assertEqual(
            reverse_ids("sodium:task-detail", [1]), reverse("sodium:task-detail", args=[1])
        )
        self.assertNotIn(__name__, [key[4] for key in urlshapes._shapes])


class URLTagTests(SimpleTestCase):
    def test_the_builtin_tag_renders_what_djangos_renders(self) -> None:
        ours = Template(
            "{% url 'sodium:task-detail' task %}|{% url 'workflows:focus' task_id=task %}|"
            "{% url 'sodium:dashboard' %}|{% url 'sodium:task-detail' '12' %}|"
            "{% url 'sodium:task-detail' task as link %}[{{ link }}]|"
            "{% url 'sodium:no-such-page' as missing %}[{{ missing }}]"
        )
        self.assertIn("sodium.templatetags.urls", str(type(ours.nodelist[0]).__module__))
        context = {"task": 42}
        expected = (
            f"{reverse('sodium:task-detail', args=[42])}|"
            f"{reverse('workflows:focus', kwargs={'task_id': 42})}|{reverse('sodium:dashboard')}|"
            f"{reverse('sodium:task-detail', args=['12'])}|"
            f"[{reverse('sodium:task-detail', args=[42])}]|[]"
        )
        self.assertEqual(ours.render(Context(context)), expected)

    @override_settings(ROOT_URLCONF=__name__)
    def test_it_escapes_as_djangos_tag_does(self) -> None:
        self.assertEqual(reverse("amp", args=[5]), "/a&b/5/")
        for source, expected in (
            ("{% url 'amp' n %}", "/a&amp;b/5/"),
            ("{% autoescape off %}{% url 'amp' n %}{% endautoescape %}", "/a&b/5/"),
            ("{% url 'amp' n as link %}{{ link }}", "/a&amp;b/5/"),
            ("{% url 'amp' '5' %}", "/a&amp;b/5/"),
        ):
            with self.subTest(source=source):
                self.assertEqual(Template(source).render(Context({"n": 5})), expected)

    def test_it_raises_for_a_missing_name_as_django_does(self) -> None:
        with self.assertRaises(NoReverseMatch):
            Template("{% url 'sodium:no-such-page' %}").render(Context())
