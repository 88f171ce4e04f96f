FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=dms.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput
RUN useradd --create-home dms && mkdir -p /app/var/media && chown -R dms /app/var
USER dms
EXPOSE 8000
# gunicorn.conf.py (in /app, the working directory): workers sized to the cores (GUNICORN_THREADS for threads)
CMD ["gunicorn", "dms.wsgi:application"]
