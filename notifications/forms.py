from django import forms
from django.utils.translation import gettext_lazy as _

from dms.core.forms import BootstrapFormMixin

from .models import CallOutcome


class CallResultForm(BootstrapFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Result"), choices=CallOutcome.choices)
    agreed_date = forms.DateField(
        label=_("Agreed date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Visit, collection or next call, if agreed."),
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.TextInput(attrs={"maxlength": 2000})
    )

    def __init__(self, *args, event, **kwargs):
        kwargs.setdefault("prefix", f"e{event.pk}")
        super().__init__(*args, **kwargs)
        labels = dict(CallOutcome.choices)
        self.fields["outcome"].choices = [(value, labels[value]) for value in event.allowed_outcomes()]
        for field in self.fields.values():
            classes = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = classes.replace("form-control", "form-control form-control-sm").replace(
                "form-select", "form-select form-select-sm"
            )
