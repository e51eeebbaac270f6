#!/usr/bin/env bash
# The panel's site steps (a generic PHP site with a MariaDB database, its own PHP-FPM master, on
# Debian 12 without an init system) written by hand as one script, run as root over one SSH
# session: the limit `cargo bench --bench provision` measures the panel's job against. No checks
# of what is already there, no verification, no rollback.
# Args: USER DOMAIN DATABASE PASSWORD (test values: letters, digits, dots, dashes).
set -euo pipefail
user=$1 domain=$2 db=$3 pass=$4
home=/home/$user
useradd --home-dir "$home" --no-create-home --shell /usr/sbin/nologin --user-group "$user"
install -d -m 0750 -o root -g "$user" "$home"
usermod -a -G "$user" www-data
install -d -m 0755 -o "$user" -g "$user" "$home/public_html"
install -d -m 0700 -o "$user" -g "$user" "$home/storage" "$home/tmp" "$home/logs"
printf '<p>%s is ready.</p>\n' "$domain" >"$home/public_html/index.html"
chown "$user:$user" "$home/public_html/index.html"
install -d -m 0755 /run/php-fpm /etc/panel/php-fpm
install -d -m 0750 /var/log/panel/php-fpm
cat >"/etc/panel/php-fpm/$user.conf" <<CONF
[global]
pid = /run/php-fpm/$user.pid
error_log = /var/log/panel/php-fpm/$user.log
[$user]
user = $user
group = $user
listen = /run/php-fpm/$user.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0600
pm = ondemand
pm.max_children = 5
php_admin_value[open_basedir] = $home/
CONF
cat >"/etc/nginx/sites-available/$domain.conf" <<CONF
server {
    listen 80;
    server_name $domain;
    root $home/public_html;
    index index.php index.html;
    location ~ \.php\$ {
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME \$realpath_root\$fastcgi_script_name;
        fastcgi_pass unix:/run/php-fpm/$user.sock;
    }
}
CONF
ln -sfn "/etc/nginx/sites-available/$domain.conf" "/etc/nginx/sites-enabled/$domain.conf"
mariadb <<SQL
CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$db'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$db'@'localhost';
SQL
install -m 0600 -o "$user" -g "$user" /dev/null "$home/.env"
printf 'APP_URL="http://%s"\nDB_DATABASE="%s"\nDB_USERNAME="%s"\nDB_PASSWORD="%s"\n' \
  "$domain" "$db" "$db" "$pass" >"$home/.env"
/usr/sbin/php-fpm8.2 --daemonize --fpm-config "/etc/panel/php-fpm/$user.conf"
nginx -t -q
nginx -s reload
