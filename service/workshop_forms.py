"""Forms of the workshop pages (issue 18): technicians, their hours and absences, job assignment."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from dms.core import roles
from dms.core.forms import BootstrapFormMixin, DealershipScopedFormMixin
from dms.core.names import user_name
from dms.core.selectors import dealership_staff

from . import workshop
from .forms import DATE, TIME
from .models import CertificationLevel, JobKind, TechnicianAbsence, WorkingHours

User = get_user_model()


class TechnicianForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    user = forms.ModelChoiceField(label=_("Employee"), queryset=User.objects.none())
    certification_level = forms.TypedChoiceField(
        label=_("Certification level"), choices=CertificationLevel.choices, coerce=int, initial=2
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"),
        queryset=JobKind.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Kinds of job the technician may be given."),
    )
    is_active = forms.BooleanField(label=_("Works in the workshop"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=300)

    def __init__(self, *args, dealership, instance=None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "user": instance.user_id,
                    "certification_level": instance.certification_level,
                    "skills": list(instance.skills.all()),
                    "is_active": instance.is_active,
                    "notes": instance.notes,
                },
            )
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["skills"].widget.attrs["class"] = "form-check-input"
        if instance is not None:
            del self.fields["user"]
        else:
            taken = workshop.technician_list(dealership_ids=[dealership.pk]).values("user_id")
            staff = dealership_staff(dealership=dealership, role=roles.TECHNICIAN)
            self.fields["user"].queryset = staff.exclude(pk__in=taken)
            self.fields["user"].label_from_instance = user_name
            self.fields["user"].help_text = _("Employees with the technician's role who have no record yet.")


class TechnicianHoursForm(BootstrapFormMixin, forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=WorkingHours.Weekday.choices, coerce=int)
    starts_at = forms.TimeField(label=_("From"), widget=TIME)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME)
    break_minutes = forms.IntegerField(label=_("Break, minutes"), min_value=0, max_value=240, initial=60)


class TechnicianAbsenceForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=TechnicianAbsence.Kind.choices)
    starts_on = forms.DateField(label=_("From"), widget=DATE)
    ends_on = forms.DateField(label=_("Until"), widget=DATE, required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


class JobAssignForm(BootstrapFormMixin, forms.Form):
    technician = forms.ModelChoiceField(label=_("Technician"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, dealership, job=None, **kwargs):
        super().__init__(*args, **kwargs)
        technicians = workshop.technician_list(dealership_ids=[dealership.pk], active_only=True)
        if job is not None and job.kind_id is not None:
            technicians = technicians.filter(skills=job.kind_id)
        self.fields["technician"].queryset = User.objects.filter(pk__in=technicians.values("user_id")).order_by(
            "last_name", "first_name"
        )
        self.fields["technician"].label_from_instance = user_name
        self.fields["technician"].empty_label = _("— not assigned —")
