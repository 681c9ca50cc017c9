"""Chinese names in the order readers expect: by pinyin (pypinyin), then by the characters."""
from functools import lru_cache

from django import forms


@lru_cache(maxsize=8192)
def pinyin_key(name: str) -> tuple:
    """Sort key of a name: its syllables without tones (Latin letters and digits kept as they are)."""
    # imported when first needed: its dictionaries take about 60 MB, which a process streaming
    # an export or running a task never needs (bench: the CSV export's peak memory)
    from pypinyin import Style, lazy_pinyin

    return tuple(s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")), name


def by_pinyin(objects, name=lambda obj: obj.name) -> list:
    return sorted(objects, key=lambda obj: pinyin_key(name(obj)))


class PinyinChoiceIterator(forms.models.ModelChoiceIterator):
    """A ModelChoiceField's options sorted by the pinyin of their labels (SQL cannot: SQLite has
    no Chinese collation)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        choices = [self.choice(obj) for obj in self.queryset.iterator()]
        yield from sorted(choices, key=lambda choice: pinyin_key(str(choice[1])))


class PinyinModelChoiceField(forms.ModelChoiceField):
    iterator = PinyinChoiceIterator
