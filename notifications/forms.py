from django import forms
from django.utils.translation import gettext_lazy as _

from dms.core.forms import BootstrapFormMixin, SatisfactionField
from dms.core.models import ContactChannel

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
    # Issue 18 item 6: the customer's satisfaction if asked on the call (1–5; the service checks it).
    satisfaction = SatisfactionField()

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


class MessageForm(BootstrapFormMixin, forms.Form):
    """An employee's message in the customer's thread (issue 17 item 3); the service checks channel and opt-outs."""

    body = forms.CharField(
        label=_("Message"), max_length=1600, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1600})
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[])
    event = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, whatsapp: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("as the customer last wrote")), (ContactChannel.SMS, ContactChannel.SMS.label)]
        if whatsapp:
            choices.append((ContactChannel.WHATSAPP, ContactChannel.WHATSAPP.label))
        self.fields["channel"].choices = choices
