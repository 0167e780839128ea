# language: vi
@IFACE
Tính năng: Giao diện dịch vụ công riêng của tỉnh đã đóng
  Từ khi chuyển đổi, người dân chỉ nộp hồ sơ trên Cổng Dịch vụ công quốc gia; các trang cũ của
  tỉnh phải chuyển họ tới đó.

  @IFACE-1
  Kịch bản: Các trang dịch vụ công cũ chuyển hướng về Cổng quốc gia
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Thì mọi trang dịch vụ công cũ của tỉnh chuyển hướng về Cổng Dịch vụ công quốc gia
